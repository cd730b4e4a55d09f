"""The `facekit` command line."""
import argparse
import os
import sys


def _server_binary():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "bin", "facekit_server")
    if not os.path.isfile(path):
        raise SystemExit(f"facekit: server binary not found at {path} (reinstall the wheel)")
    return path


def cmd_serve(args, extra):
    from . import model_dir
    argv = [_server_binary()]
    if model_dir() and "--model-dir" not in extra:
        argv += ["--model-dir", model_dir()]
    argv += extra
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.execv(argv[0], argv)


def cmd_models(args, extra):
    from . import models
    rows = models()
    print(f"{'name':16s} {'MB':>6s}  {'input':18s} {'licence':14s} task")
    for m in rows:
        shape = "x".join(str(d) for d in m["input_shape"][1:])
        print(f"{m['name']:16s} {m['bytes'] / 1e6:6.2f}  {shape:18s} {m['weights_licence'][:14]:14s} {m['task']}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="facekit", description="facekit: face recognition engine")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the zmq server (options after `serve` go to facekit_server)")
    sub.add_parser("models", help="list the bundled models")
    args, extra = ap.parse_known_args(argv)
    if args.command != "serve" and extra:
        ap.error(f"unrecognized arguments: {' '.join(extra)}")
    return {"serve": cmd_serve, "models": cmd_models}[args.command](args, extra)


if __name__ == "__main__":
    sys.exit(main())
