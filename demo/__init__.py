"""The offline demo: bundled sample sources served on 127.0.0.1, the whole pipeline once."""

from regwatch.demo.run import DemoReport, run_demo
from regwatch.demo.server import serve

__all__ = ["DemoReport", "run_demo", "serve"]
