"""``python -m carehub ...``: the same program as the ``carehub`` command."""

from carehub.cli import app

if __name__ == "__main__":
    app(prog_name="carehub")
