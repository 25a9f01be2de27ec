"""Guest side of eryx.integrations.smolagents: runs INSIDE the sandbox.

The executor writes this file into the sandbox and binds ``final_answer``
from it (``runpy.run_path``). Calling ``final_answer(x)`` raises
``FinalAnswerException`` whose message is ``"safe:" + JSON``, in the
tagged form smolagents' ``SafeSerializer.from_json_safe`` decodes on the
host (``{"__type__": "tuple", "data": [...]}``, ...): the way smolagents'
remote executors detect a final answer, without needing numpy or PIL in
the sandbox. Values JSON cannot carry are sent as their ``str()``.
"""

import base64
import json


class FinalAnswerException(BaseException):
    """Raised by ``final_answer``: the cell's final answer, serialized."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


# Named plainly in the error the host sees (as smolagents' own class is),
# not as "<run_path>.FinalAnswerException".
FinalAnswerException.__module__ = "builtins"


def _tagged(kind, **fields):
    fields["__type__"] = kind
    return fields


def to_json_safe(obj):
    """``obj`` as JSON-able data in smolagents' tagged form."""
    import dataclasses
    import datetime
    import decimal
    import pathlib

    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, list):
        return [to_json_safe(v) for v in obj]
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: to_json_safe(v) for k, v in obj.items()}
        return _tagged("dict_with_complex_keys", data=[[to_json_safe(k), to_json_safe(v)] for k, v in obj.items()])
    for kind, cls in (("tuple", tuple), ("set", set), ("frozenset", frozenset)):
        if isinstance(obj, cls):
            return _tagged(kind, data=[to_json_safe(v) for v in obj])
    if isinstance(obj, (bytes, bytearray)):
        return _tagged("bytes", data=base64.b64encode(bytes(obj)).decode("ascii"))
    if isinstance(obj, complex):
        return _tagged("complex", real=obj.real, imag=obj.imag)
    if isinstance(obj, datetime.datetime):
        return _tagged("datetime", data=obj.isoformat())
    if isinstance(obj, datetime.date):
        return _tagged("date", data=obj.isoformat())
    if isinstance(obj, datetime.time):
        return _tagged("time", data=obj.isoformat())
    if isinstance(obj, datetime.timedelta):
        return _tagged("timedelta", total_seconds=obj.total_seconds())
    if isinstance(obj, decimal.Decimal):
        return _tagged("Decimal", data=str(obj))
    if isinstance(obj, pathlib.PurePath):
        return _tagged("Path", data=str(obj))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _tagged(
            "dataclass",
            class_name=type(obj).__name__,
            module=type(obj).__module__,
            data={f.name: to_json_safe(getattr(obj, f.name)) for f in dataclasses.fields(obj)},
        )
    return str(obj)


def final_answer(answer):
    """Provides a final answer to the given problem (ends the agent's run)."""
    raise FinalAnswerException("safe:" + json.dumps(to_json_safe(answer)))
