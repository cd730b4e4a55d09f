"""A zmq client for facekit_server: one method per interface of shared/spec/interfaces.md.

    >>> c = facekit.Client("tcp://127.0.0.1:5559", api_key="dev")
    >>> c.register("1", "staff", ["alice.jpg"])
    >>> c.search("staff", images=["probe.jpg"])
    [('1', 93.4)]

Errors raise facekit.ProtocolError(code, message). Timeouts: a request that gets no reply
in `timeout` seconds is retried (`retries` times) only when it is idempotent; registration
is never re-sent silently (its outcome is unknown, so ProtocolTimeout is raised).
"""
import base64
import json
import os
import uuid

import zmq

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


_MEANING = {10001: "unknown api_key", 10002: "no face found", 10003: "more than one face",
            10004: "server error", 10005: "parameter error", 10006: "not a JSON object",
            10007: "invalid base64 image", 10008: "rate limit exceeded", 10009: "empty array",
            10010: "not authorised"}


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


class Client:
    def __init__(self, endpoint="tcp://127.0.0.1:5559", api_key="", timeout=30.0, retries=2,
                 pedestrian_endpoint=None, context=None):
        self.endpoint, self.api_key = endpoint, api_key
        self.pedestrian_endpoint = pedestrian_endpoint or endpoint.rsplit(":", 1)[0] + ":5561"
        self.timeout, self.retries = timeout, retries
        self._ctx = context or zmq.Context.instance()

    # -- transport -------------------------------------------------------------------------
    def call(self, interface, endpoint=None, **fields):
        """Send one request; returns the reply dict (raises ProtocolError on 10001-10010)."""
        msg = dict(fields, interface=str(interface), api_key=self.api_key)
        data = json.dumps(msg).encode()
        attempts = 1 + (self.retries if str(interface) in _IDEMPOTENT else 0)
        for attempt in range(attempts):
            sock = self._ctx.socket(zmq.DEALER)  # a fresh socket per try: no stale replies
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.IDENTITY, uuid.uuid4().bytes)
            sock.connect(endpoint or self.endpoint)
            try:
                sock.send(data)
                if sock.poll(int(self.timeout * 1000)):
                    reply = json.loads(sock.recv())
                    break
            finally:
                sock.close()
        else:
            what = "registration outcome unknown; not re-sent" if str(interface) == "0" else "no reply"
            raise ProtocolTimeout(f"interface {interface}: {what} after {self.timeout:g} s")
        code = reply.get("error_message", "")
        if code.isdigit() and 10001 <= int(code) <= 10010:
            raise ProtocolError(code, _MEANING.get(int(code), ""))
        return reply

    # -- interfaces ------------------------------------------------------------------------
    def register(self, face_id, group_id, images, landmarks=None):
        """Interface 0 for one person (1-5 images). Returns True; raises ProtocolError with the
        per-person code (10002, 10003, 10005, 10007) on failure."""
        return self.register_many([(face_id, group_id, images, landmarks)])[str(face_id)] is None

    def register_many(self, persons):
        """Interface 0 for several (face_id, group_id, images[, landmarks]) persons.
        Returns {face_id: None (registered) or failure code}."""
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
        result = {fid: None for fid in ids}
        for fid, code in zip(reply.get("failed_face_id", []), reply.get("failed_message", [])):
            result[fid] = int(code)
        if len(persons) == 1 and result[ids[0]] is not None:
            raise ProtocolError(result[ids[0]], _MEANING.get(result[ids[0]], ""))
        return result

    def search(self, group_id, images=None, feature=None, score=70.0, topk=5, landmarks=None):
        """Interface 1: [(face_id, score)] best first (empty when none reaches `score`)."""
        fields = dict(group_id=group_id, score=score, topk=topk)
        if feature is not None:
            fields.update(field="feature", feature=[float(v) for v in feature])
        else:
            fields["image_base64"] = [encode_image(i) for i in images]
            if landmarks:
                fields["landmarks"] = [_landmarks(x) for x in landmarks]
        reply = self.call(1, **fields)
        return list(zip(reply["face_id"], reply["score"]))

    def delete(self, face_id, group_id, up_to=False):
        """Interface 2: True if anything was deleted (up_to: every face_id 0..face_id)."""
        fields = dict(face_id=str(face_id), group_id=group_id)
        if up_to:
            fields["field"] = "range"
        return self.call(2, **fields)["error_message"] == "301"

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
        return self.call(10, endpoint=self.pedestrian_endpoint, image1_base64=encode_image(image))["result"]

    def hairstyle(self, images):
        """Interface 11."""
        return self.call(11, image_base64=[encode_image(i) for i in images])["hair"]

    def count(self, group_id=None):
        """Interface 12: distinct face_ids in a group (or in all groups)."""
        fields = {} if group_id is None else {"group_id": group_id}
        return self.call(12, **fields)["reg_nums"]
