"""``llama-models models list`` and ``llama-models models get ID``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from .._protocol import path_segment
from ._common import print_json, print_table

if TYPE_CHECKING:
    from .._client import AsyncLlamaClient
    from ._common import Groups

__all__ = ["add_commands"]


def add_commands(groups: Groups, common: argparse.ArgumentParser) -> None:
    """Add ``models list`` and ``models get`` to *groups*."""
    models = groups.add_parser("models", help="list and inspect models", parents=[common])
    actions = models.add_subparsers(title="model commands", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list the available models", parents=[common])
    listing.set_defaults(command=_models_list)
    getting = actions.add_parser("get", help="show one model", parents=[common])
    getting.add_argument("model_id", metavar="ID", help="the model id")
    getting.set_defaults(command=_models_get, check=_check_get)


def _check_get(args: argparse.Namespace) -> None:
    path_segment(args.model_id, "ID")


async def _models_list(client: AsyncLlamaClient, args: argparse.Namespace, out: TextIO) -> None:
    models = await client.models.list()
    if args.json:
        print_json(models.to_dict(), out)
        return
    rows = [("ID", "CREATED", "OWNER")]
    rows += [(m.id, m.created_at.strftime("%Y-%m-%d"), m.owned_by) for m in models]
    print_table(rows, out)


async def _models_get(client: AsyncLlamaClient, args: argparse.Namespace, out: TextIO) -> None:
    model = await client.models.retrieve(args.model_id)
    if args.json:
        print_json(model.to_dict(), out)
        return
    created = model.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    print_table(
        [("id", model.id), ("created", created), ("owned_by", model.owned_by)], out, header=False
    )
