"""The server's protocol tables (server/src/protocol/wire_codes.h, interfaces.h), as the binary
prints them, against the Python client's copy and against the server's behaviour."""
import json
import os
import subprocess

import facekit
from facekit.client import WIRE_CODES


def server_table(option):
    binary = os.environ.get("FACEKIT_SERVER_BINARY") or os.path.join(os.path.dirname(facekit.__file__), "bin",
                                                                      "facekit_server")
    out = subprocess.run([binary, option], check=True, capture_output=True, text=True, timeout=60).stdout
    return json.loads(out)


def test_python_client_wire_codes_equal_the_servers():
    server = {int(row["code"]): (row["interface"], row["meaning"]) for row in server_table("--wire-codes")}
    assert server == WIRE_CODES


def test_every_interface_has_one_row_and_its_success_codes():
    rows = server_table("--interfaces")
    assert [r["interface"] for r in rows] == [str(i) for i in range(13)]
    assert {r["interface"] for r in rows if r["endpoint"] == "pedestrian"} == {"10"}
    assert {r["interface"] for r in rows if r["rate_limit"] == "general"} == {"1", "4", "5"}
    assert {r["interface"] for r in rows if r["rate_limit"] == "register"} == {"0"}
    for r in rows:
        assert any(interface == int(r["interface"]) for interface, _ in WIRE_CODES.values()), r


def test_interfaces_answer_only_on_their_endpoint(server):
    # The pedestrian port serves interface 10 only; the face port everything else.
    assert server.request({"interface": "10", "api_key": "k", "image1_base64": "AAAA"})["error_message"] == "10005"
    reply = server.request({"interface": "12", "api_key": "k"}, endpoint=server.pedestrian)
    assert reply["error_message"] == "10005"
    assert server.request({"interface": "12", "api_key": "k"})["error_message"] == "1301"
