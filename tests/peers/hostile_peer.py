"""A hostile wormhole peer for tests/wormhole.rs, written with Python's `wormhole` library.

    python hostile_peer.py MAILBOX_URL RELAY ROLE MODE [CODE]

ROLE `send`: allocates a code (printed on the first line of stdout), offers a file.
ROLE `receive`: uses CODE, accepts whatever the other side offers.
MODE `huge-record`: once the transit connection is up, announces a record of 0xffffffff bytes
(the 4-byte length prefix of the transit protocol) and sends a few bytes of it, then waits.
MODE `huge-text`: (send only) offers a text message of 9 MB over the mailbox (18 MB hex-encoded,
more than a websocket message may be).
MODE `long-text`: (send only) offers a text message of 100,000 bytes (within the websocket's
limit, more than a text message may be), then prints the answer it gets, as JSON, on stdout.
"""

import json
import sys

from twisted.internet import defer, task

import wormhole
from wormhole.transit import TransitReceiver, TransitSender

APPID = "lothar.com/wormhole/text-or-file-xfer"


def send_json(w, value):
    w.send_message(json.dumps(value).encode("utf-8"))


@defer.inlineCallbacks
def get_json(w):
    data = yield w.get_message()
    return json.loads(data.decode("utf-8"))


@defer.inlineCallbacks
def main(reactor, mailbox, relay, role, mode, code=None):
    w = wormhole.create(APPID, mailbox, reactor)
    if role == "send":
        w.allocate_code(2)
        code = yield w.get_code()
        print(code, flush=True)
    else:
        w.set_code(code)
    yield w.get_unverified_key()

    if mode == "huge-text":
        send_json(w, {"offer": {"message": "x" * (9 * 1000 * 1000)}})
        yield task.deferLater(reactor, 20, lambda: None)
        return
    if mode == "long-text":
        send_json(w, {"offer": {"message": "x" * 100000}})
        answer = yield get_json(w)
        print(json.dumps(answer), flush=True)
        return

    transit = (TransitSender if role == "send" else TransitReceiver)(
        relay, no_listen=True, reactor=reactor)
    transit.set_transit_key(w.derive_key(APPID + "/transit-key", transit.TRANSIT_KEY_LENGTH))
    hints = yield transit.get_connection_hints()
    send_json(w, {"transit": {"abilities-v1": transit.get_connection_abilities(),
                              "hints-v1": hints}})
    if role == "send":
        send_json(w, {"offer": {"file": {"filename": "x", "filesize": 1000}}})
    have_transit = False
    # A sender waits for the answer, a receiver for the offer (which it accepts).
    ready = False
    while not (have_transit and ready):
        msg = yield get_json(w)
        if "error" in msg:
            print("peer error: %s" % msg["error"], file=sys.stderr, flush=True)
            return
        if "transit" in msg:
            transit.add_connection_hints(msg["transit"].get("hints-v1", []))
            have_transit = True
        if "answer" in msg and role == "send":
            ready = True
        if "offer" in msg and role != "send":
            send_json(w, {"answer": {"file_ack": "ok"}})
            ready = True
    conn = yield transit.connect()
    # The record length is the first thing on the wire; a few bytes follow so the reader has
    # something to read if it tried to.
    conn.transport.write(b"\xff\xff\xff\xff" + b"\x00" * 100)
    print("announced", flush=True)
    yield task.deferLater(reactor, 20, lambda: None)


if __name__ == "__main__":
    task.react(main, sys.argv[1:])
