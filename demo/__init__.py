"""The offline demo: bundled sample sources served on 127.0.0.1, the whole pipeline once."""

from demo.run import DemoReport, run_demo
from demo.server import serve

__all__ = ["DemoReport", "run_demo", "serve"]
