"""A zmq client for facekit_server: one method per interface of shared/spec/interfaces.md.

    >>> c = facekit.Client("tcp://127.0.0.1:5559", api_key="dev")
    >>> c.register("1", "staff", ["alice.jpg"])
    >>> c.search("staff", images=["probe.jpg"])
    [('1', 93.4)]

Several servers on one registry (docs/CONFIGURATION.md): give them all, and each call goes to
the next one in turn; a server that does not answer costs one `timeout`, then the request
goes to the next server ("lazy pirate": a fresh socket per try, closed with LINGER 0, so a
late reply from a slow server can never be taken for the answer to another request).

    >>> c = facekit.Client(["tcp://h1:5559", "tcp://h2:5559", "tcp://h3:5559"], api_key="k",
    ...                    read_your_writes=True)

Errors raise facekit.ProtocolError(code, message); ProtocolTimeout when no server answered.
"""
import base64
import json
import os
import threading
import time
import uuid
import zlib

import zmq

# Re-sent after a timeout even to a lone server. The others (registration 0, liveness 9) are
# sent to a lone server once; with several servers they move on to the next (see Client).
_IDEMPOTENT = {"1", "2", "3", "4", "5", "6", "7", "8", "10", "11", "12"}


class ProtocolError(Exception):
    """A reply carrying an error code (10001-10010) or an unexpected result code."""

    def __init__(self, code, message=""):
        super().__init__(f"{code}: {message}" if message else str(code))
        self.code = int(code) if str(code).isdigit() else code
        self.message = message


class ProtocolTimeout(ProtocolError):
    def __init__(self, message):
        super().__init__("timeout", message)


# Every code a reply's error_message can carry: code -> (interface answering it, or -1 for an
# error any interface may answer; meaning). The server's own table (server/src/protocol/
# wire_codes.h, printed by `facekit_server --wire-codes`) is the source: a conformance test
# (tests/conformance/test_wire_tables.py) keeps this copy equal to it.
WIRE_CODES = {
    101: (0, "every person registered"),
    102: (0, "some persons not registered (failed_face_id, failed_message)"),
    201: (1, "faces above the threshold"),
    202: (1, "no face above the threshold"),
    301: (2, "at least one face deleted"),
    302: (2, "no face matched"),
    401: (3, "registered"),
    402: (3, "not registered"),
    501: (4, "the same person"),
    502: (4, "not the same person"),
    601: (5, "faces detected"),
    701: (6, "features extracted"),
    801: (7, "gender of each image"),
    901: (8, "age of each image"),
    1001: (9, "liveness checked"),
    1101: (10, "persons detected"),
    1201: (11, "hairstyle of each image"),
    1301: (12, "registry counts"),
    10001: (-1, "unknown api_key"),
    10002: (-1, "no face found"),
    10003: (-1, "more than one face"),
    10004: (-1, "server error"),
    10005: (-1, "parameter error"),
    10006: (-1, "not a JSON object"),
    10007: (-1, "invalid base64 image"),
    10008: (-1, "rate limit exceeded"),
    10009: (-1, "empty array"),
    10010: (-1, "not authorised"),
}
_ERRORS = {code: meaning for code, (interface, meaning) in WIRE_CODES.items() if interface < 0}


def encode_image(image):
    """A path, raw encoded bytes, or an already-base64 string -> base64 text."""
    if isinstance(image, (bytes, bytearray)):
        return base64.b64encode(bytes(image)).decode()
    if isinstance(image, os.PathLike) or (isinstance(image, str) and os.path.isfile(image)):
        with open(image, "rb") as f:
            return base64.b64encode(f.read()).decode()
    if isinstance(image, str):
        return image
    try:
        import cv2
        ok, buf = cv2.imencode(".jpg", image)
        if ok:
            return base64.b64encode(buf.tobytes()).decode()
    except ImportError:
        pass
    raise TypeError("image must be a path, encoded bytes, base64 text or a BGR numpy array")


def _landmarks(points):
    if points is None:
        return None
    pts = [tuple(p) for p in points]
    return {"x": [float(p[0]) for p in pts], "y": [float(p[1]) for p in pts]}


def _endpoint_list(endpoints):
    """A string (one endpoint, or several separated by commas) or a list -> a list."""
    items = endpoints.split(",") if isinstance(endpoints, str) else list(endpoints)
    out = []
    for e in (str(x).strip() for x in items):
        if e and e not in out:
            out.append(e)
    if not out:
        raise ValueError("no endpoint given")
    return out


class Client:
    """Talks to one facekit_server, or to several serving one shared registry.

    endpoint: "tcp://host:5559", a list of such endpoints, or one string of them separated by
    commas. pedestrian_endpoint (interface 10): the same forms; by default one per face
    endpoint, on its host at port 5561. timeout: seconds to wait for each try's reply.

    One endpoint behaves as it always has: a request without a reply in `timeout` is sent
    again (1 + `retries` tries) when it is idempotent; registration (0) and liveness (9) are
    sent once and raise ProtocolTimeout (a registration's outcome is then unknown).

    Several endpoints, the "lazy pirate" pattern: each call starts at the next endpoint in
    turn (round robin, so calls spread over the servers); a try without a reply in `timeout`
    closes its socket (LINGER 0) and the same request goes to the next endpoint. An endpoint
    that just timed out is tried last by every call for `suspect_s` seconds (10), so a dead
    server costs one timeout, not one per call. Tries: max(1 + retries, number of endpoints),
    so every server is tried at least once; past that the order wraps round. Track mode
    (interface 5 with a camera) starts at the same endpoint for each camera, since tracks
    live in one server's memory; a failover starts that camera's tracks afresh.

    Registration with several endpoints is at-least-once: a try that timed out may still
    have been committed, and the same request is then committed again by the next server.
    That is harmless because registration replaces the person whole (shared/spec/interfaces.md,
    interface 0): the second commit writes the same features again. The race it leaves: if
    the first server commits late, after a later change to the same face_id (a delete, or a
    registration by someone else), the late commit undoes it. Servers give up a request
    `request_timeout_ms` after it arrived (15 s by default): keep `timeout` above that (30 s
    by default) and a timed-out try has normally been answered or given up by its server
    when the next is sent. Interfaces 0 and 9 are never sent twice to one endpoint in a call.

    Versions (servers on a shared PostgreSQL registry): registration and delete replies
    carry the group's registry `version`; `versions` keeps the highest seen per group (a
    registration over several groups is recorded only if its reply gives {group: version}).
    search(min_version=v) asks the server to answer only once it has applied version v of
    the group (else 10004 after its `min_version_wait_ms`). With read_your_writes=True every
    search passes the group's entry of `versions` itself, so a search sees this client's
    own registrations and deletes whichever server answers it.
    """

    def __init__(self, endpoint="tcp://127.0.0.1:5559", api_key="", timeout=30.0, retries=2,
                 pedestrian_endpoint=None, context=None, read_your_writes=False, suspect_s=10.0):
        self.endpoints = _endpoint_list(endpoint)
        self.endpoint = self.endpoints[0]
        if not pedestrian_endpoint:
            pedestrian_endpoint = [e.rsplit(":", 1)[0] + ":5561" for e in self.endpoints]
        self.pedestrian_endpoints = _endpoint_list(pedestrian_endpoint)
        self.pedestrian_endpoint = self.pedestrian_endpoints[0]
        self.api_key = api_key
        self.timeout, self.retries = timeout, retries
        self.read_your_writes, self.suspect_s = read_your_writes, suspect_s
        self.versions = {}  # group -> highest registry version seen in a reply
        self._ctx = context or zmq.Context.instance()
        self._lock = threading.Lock()
        self._turn = {}  # endpoint list -> calls started on it (round robin)
        self._timed_out = {}  # endpoint -> time.monotonic() of its last timeout

    # -- transport -------------------------------------------------------------------------
    def call(self, interface, endpoint=None, **fields):
        """Send one request; returns the reply dict (raises ProtocolError on 10001-10010).
        endpoint: a string or list overriding the client's face endpoints for this call."""
        interface = str(interface)
        msg = dict(fields, interface=interface, api_key=self.api_key)
        data = json.dumps(msg).encode()
        endpoints = self.endpoints if endpoint is None else _endpoint_list(endpoint)
        order = self._order(endpoints, fields.get("camera_id") if fields.get("field") == "track" else None)
        if len(order) == 1:
            tries = 1 + (self.retries if interface in _IDEMPOTENT else 0)
        elif interface in _IDEMPOTENT:
            tries = max(1 + self.retries, len(order))
        else:
            tries = len(order)  # each server once: at-least-once, see the class docstring
        for attempt in range(tries):
            target = order[attempt % len(order)]
            reply = self._try(target, data)
            if reply is not None:
                break
        else:
            if interface == "0" and len(order) == 1:
                what = "registration outcome unknown; not re-sent"
            elif len(order) == 1:
                what = "no reply"
            else:
                what = f"no reply from any of {', '.join(order)}"
            raise ProtocolTimeout(f"interface {interface}: {what} after {self.timeout:g} s")
        code = reply.get("error_message", "")
        if code.isdigit() and int(code) in _ERRORS:
            raise ProtocolError(code, _ERRORS[int(code)])
        return reply

    def _try(self, endpoint, data):
        """One request on a fresh socket: the reply dict, or None after `timeout`."""
        sock = self._ctx.socket(zmq.DEALER)  # a fresh socket per try: no stale replies
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.IDENTITY, uuid.uuid4().bytes)
        sock.connect(endpoint)
        try:
            sock.send(data)
            if sock.poll(int(self.timeout * 1000)):
                reply = json.loads(sock.recv())
                with self._lock:
                    self._timed_out.pop(endpoint, None)
                return reply
        finally:
            sock.close()
        with self._lock:
            self._timed_out[endpoint] = time.monotonic()
        return None

    def _order(self, endpoints, camera_id=None):
        """This call's endpoints in the order to try: from the next in turn (or the camera's
        own), those that timed out in the last `suspect_s` seconds last, oldest timeout first."""
        if len(endpoints) == 1:
            return endpoints
        key = tuple(endpoints)
        with self._lock:
            if camera_id is None:
                start = self._turn.get(key, 0)
                self._turn[key] = start + 1
            else:
                start = zlib.crc32(str(camera_id).encode())
            now = time.monotonic()
            timed_out = {e: t for e, t in self._timed_out.items() if now - t < self.suspect_s}
        n = len(endpoints)
        rotated = [endpoints[(start + i) % n] for i in range(n)]
        return ([e for e in rotated if e not in timed_out]
                + sorted((e for e in rotated if e in timed_out), key=timed_out.get))

    def _note_version(self, reply, groups):
        """Record a registration or delete reply's `version`: an int for a request on one
        group, or {group: version} for several."""
        version = reply.get("version")
        if isinstance(version, dict):
            seen = version.items()
        elif isinstance(version, int) and not isinstance(version, bool) and len(set(groups)) == 1:
            seen = [(groups[0], version)]
        else:
            return
        with self._lock:
            for group, v in seen:
                if isinstance(v, int) and not isinstance(v, bool) and v > self.versions.get(group, -1):
                    self.versions[group] = v

    # -- interfaces ------------------------------------------------------------------------
    def register(self, face_id, group_id, images, landmarks=None):
        """Interface 0 for one person (1-5 images). Returns True; raises ProtocolError with the
        per-person code (10002, 10003, 10005, 10007) on failure."""
        return self.register_many([(face_id, group_id, images, landmarks)])[str(face_id)] is None

    def register_many(self, persons):
        """Interface 0 for several (face_id, group_id, images[, landmarks]) persons.
        Returns {face_id: None (registered) or failure code}. On a shared registry the
        reply's version is recorded in `versions`."""
        ids, groups, imgs, lms = [], [], [], []
        for p in persons:
            fid, gid, images = p[0], p[1], p[2]
            ids.append(str(fid))
            groups.append(gid)
            imgs.append([encode_image(i) for i in images])
            lm = p[3] if len(p) > 3 else None
            lms.append([_landmarks(x) for x in lm] if lm else [None] * len(images))
        fields = dict(face_id=ids, group_id=groups, image_base64=imgs)
        if any(any(x is not None for x in row) for row in lms):
            fields["landmarks"] = lms
        reply = self.call(0, **fields)
        self._note_version(reply, groups)
        result = {fid: None for fid in ids}
        for fid, code in zip(reply.get("failed_face_id", []), reply.get("failed_message", [])):
            result[fid] = int(code)
        if len(persons) == 1 and result[ids[0]] is not None:
            raise ProtocolError(result[ids[0]], _ERRORS.get(result[ids[0]], ""))
        return result

    def search(self, group_id, images=None, feature=None, score=70.0, topk=5, landmarks=None,
               min_version=None):
        """Interface 1: [(face_id, score)] best first (empty when none reaches `score`).
        min_version: answer only from a registry state that includes this version of the
        group (servers on a shared registry); by default `versions[group_id]` when the client
        was made with read_your_writes=True, else none."""
        fields = dict(group_id=group_id, score=score, topk=topk)
        if min_version is None and self.read_your_writes:
            with self._lock:
                min_version = self.versions.get(group_id)
        if min_version is not None:
            if isinstance(min_version, bool) or not isinstance(min_version, int) or min_version < 0:
                raise ValueError("min_version must be a non-negative int")
            fields["min_version"] = min_version
        if feature is not None:
            fields.update(field="feature", feature=[float(v) for v in feature])
        else:
            fields["image_base64"] = [encode_image(i) for i in images]
            if landmarks:
                fields["landmarks"] = [_landmarks(x) for x in landmarks]
        reply = self.call(1, **fields)
        return list(zip(reply["face_id"], reply["score"]))

    def delete(self, face_id, group_id, up_to=False):
        """Interface 2: True if anything was deleted (up_to: every face_id 0..face_id). On a
        shared registry the reply's version is recorded in `versions`."""
        fields = dict(face_id=str(face_id), group_id=group_id)
        if up_to:
            fields["field"] = "range"
        reply = self.call(2, **fields)
        self._note_version(reply, [group_id])
        return reply["error_message"] == "301"

    def exists(self, face_id, group_id):
        """Interface 3."""
        return self.call(3, face_id=str(face_id), group_id=group_id)["error_message"] == "401"

    def compare(self, image_a, image_b, landmarks=None):
        """Interface 4: (score 0-100, same_person)."""
        fields = dict(image_base64=[encode_image(image_a), encode_image(image_b)])
        if landmarks:
            fields["landmarks"] = [_landmarks(x) for x in landmarks]
        reply = self.call(4, **fields)
        return reply["score"], reply["error_message"] == "501"

    def detect(self, image, min_face=None, max_face=None, classify=None, portrait=False):
        """Interface 5 (detect / portrait mode): the list of face dicts."""
        fields = dict(image_base64=encode_image(image))
        if min_face is not None:
            fields["minface_size"] = int(min_face)
        if max_face is not None:
            fields["maxface_size"] = int(max_face)
        if classify:
            fields["classify"] = classify if isinstance(classify, str) else ",".join(classify)
        if portrait:
            fields["field"] = "portrait"
        return self.call(5, **fields)["detect"]

    def track(self, image, camera_id, image_id=None, min_face=None, max_face=None):
        """Interface 5, track mode: the next frame of `camera_id`. Returns the reply dict:
        `detect` (faces with `track_id`) and `track` (tracks that ended, with their best face)."""
        fields = dict(image_base64=encode_image(image), field="track", camera_id=str(camera_id))
        if image_id is not None:
            fields["image_id"] = str(image_id)
        if min_face is not None:
            fields["minface_size"] = int(min_face)
        if max_face is not None:
            fields["maxface_size"] = int(max_face)
        return self.call(5, **fields)

    def features(self, images, landmarks=None):
        """Interface 6: list of L2-normalised feature lists."""
        fields = dict(image_base64=[encode_image(i) for i in images])
        if landmarks:
            fields["landmarks"] = [_landmarks(x) for x in landmarks]
        return self.call(6, **fields)["feature"]

    def gender(self, images):
        """Interface 7: [{'Female': p, 'Male': 1 - p}]."""
        return self.call(7, image_base64=[encode_image(i) for i in images])["gender"]

    def age(self, images):
        """Interface 8: ['adult' | 'kid']."""
        return self.call(8, image_base64=[encode_image(i) for i in images])["age"]

    def liveness(self, pairs):
        """Interface 9: pairs = [(type, image1, image2)]; the reply dict."""
        live = [{"type": t, "image1_base64": encode_image(a), "image2_base64": encode_image(b)} for t, a, b in pairs]
        return self.call(9, live=live)

    def pedestrians(self, image):
        """Interface 10 (pedestrian port): list of boxes."""
        return self.call(10, endpoint=self.pedestrian_endpoints, image1_base64=encode_image(image))["result"]

    def hairstyle(self, images):
        """Interface 11."""
        return self.call(11, image_base64=[encode_image(i) for i in images])["hair"]

    def count(self, group_id=None):
        """Interface 12: distinct face_ids in a group (or in all groups)."""
        fields = {} if group_id is None else {"group_id": group_id}
        return self.call(12, **fields)["reg_nums"]
