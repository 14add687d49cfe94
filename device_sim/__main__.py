"""``python -m device_sim ...``: the ``carehub sim`` commands."""

from device_sim.cli import sim_app

if __name__ == "__main__":
    sim_app(prog_name="python -m device_sim")
