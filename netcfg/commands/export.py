"""``netcfg export``: a trained model as TorchScript or ONNX, usable without netcfg."""

from __future__ import annotations

import argparse

__all__ = ["add_parser"]

EPILOG = """examples:
  netcfg export runs/u1 --format onnx -o model.onnx
  netcfg export runs/u1 --format torchscript --signature sparse -o model.pt

signatures: dense: scores = model(x[batch, items]); sparse: scores = model(indices[nnz],
offsets[batch + 1], values[nnz]) with rows in CSR form. Items are numbered as in the run
directory's ids/<DataSet>/columns.txt.
"""


def run(args: argparse.Namespace) -> int:
    """Export and say where."""
    from netcfg.inference.export import check_export, export_model
    from netcfg.inference.models import open_model

    check_export(args.format, args.out)  # before the model is loaded
    path = export_model(open_model(args.model), args.format, args.out, args.signature)
    print(f"exported {args.format} ({args.signature} input) to {path}")
    return 0


def add_parser(subparsers, parents) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "export",
        parents=parents,
        help="export a trained model (TorchScript, ONNX)",
        description="Export a trained network for use without netcfg, with a dynamic batch "
        "dimension. ONNX needs the [export] extra (onnx).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", help="a run directory or zoo:NAME")
    parser.add_argument(
        "--format",
        choices=("torchscript", "onnx"),
        required=True,
        help="torchscript (a .pt for torch.jit.load) or onnx (a .onnx for onnxruntime)",
    )
    parser.add_argument(
        "--signature",
        choices=("dense", "sparse"),
        default="dense",
        help="dense [batch, items] input, or CSR (indices, offsets, values) (default: dense)",
    )
    parser.add_argument("-o", "--out", required=True, help="file to write")
    parser.set_defaults(run=run)
