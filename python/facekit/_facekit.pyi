"""Type stubs for facekit's compiled core (python/src/*.cpp)."""
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

ImageLike = Union[npt.NDArray[np.uint8], bytes, str, "os.PathLike[str]"]

class FacekitError(RuntimeError):
    code: str  # "no_face", "multiple_faces", "invalid_image", "invalid_argument", ...
    protocol_code: int  # 10002, 10003, 10007, 10005, 10004

class Box:
    left: float
    top: float
    width: float
    height: float

class FaceQuality:
    pitch: float
    yaw: float
    roll: float
    blur: float
    illu: float
    side_face: bool
    good: bool

class FaceAttributes:
    male: float
    female: float
    age_years: float
    kid: bool

class Face:
    box: Box
    score: float
    landmarks: npt.NDArray[np.float32]  # (5, 2)
    mesh: npt.NDArray[np.float32]  # (468, 2)
    quality: FaceQuality
    glasses: bool
    glasses_kind: str  # "none", "eyeglasses" or "sunglasses"
    attributes: Optional[FaceAttributes]

class FaceCrop:
    def __init__(self, jpeg: bytes, landmarks: Any) -> None: ...
    jpeg: bytes  # 256 px aligned face, JPEG
    landmarks: npt.NDArray[np.float32]  # (5, 2) in the crop

class LiveSignals:
    face: Face
    eye_open: Tuple[float, float]  # image-left, image-right eye: lid gap / eye width
    mouth_open: float
    real: float  # passive anti-spoofing, 0 fake .. 1 real

class LiveCheck:
    action: str
    passed: bool
    reason: str

class TrackedFace:
    face: Face
    track_id: int

class EndedTrack:
    track_id: int
    best_image_id: str
    in_ms: int
    best_ms: int
    out_ms: int
    best_face: Face
    best_jpeg: bytes

class TrackUpdate:
    faces: List[TrackedFace]
    ended: List[EndedTrack]

class FaceTracker:
    def __init__(self, engine: Engine, min_face: int = 40, max_face: int = 400, lost_frames: int = 5,
                 lost_ms: int = 2000) -> None: ...
    def update(self, frame: ImageLike, image_id: str, time_ms: int, rgb: bool = False) -> TrackUpdate: ...
    def finish(self) -> List[EndedTrack]: ...
    open_tracks: int

class SearchHit:
    face_id: str
    cosine: float

def read_manifest(model_dir: str) -> List[dict]: ...
def decode_base64(text: str) -> bytes: ...
def migrate_registry(path: str, engine: Engine, progress: Optional[Callable[[int, int], None]] = None,
                     drop_without_crop: bool = False) -> dict: ...

class ModelRuntime:
    def __init__(self, model_dir: str = ..., num_threads: int = ..., verify_checksums: bool = ...,
                 warm_up: bool = ...) -> None: ...
    @property
    def model_dir(self) -> str: ...
    def models(self) -> List[dict]: ...
    def run(self, name: str, input: npt.NDArray[np.float32]) -> List[npt.NDArray[np.float32]]: ...
    def prepare_input(self, name: str, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]: ...

class Engine:
    def __init__(self, model_dir: str = ..., num_threads: int = ..., cosine_at_threshold: float = ...,
                 descriptor: str = "accurate") -> None: ...
    def detect(self, image: ImageLike, min_face: int = 20, max_face: int = 0, portrait: bool = False,
               attributes: bool = False, rgb: bool = False) -> List[Face]: ...
    def largest_face(self, image: ImageLike, attributes: bool = False, rgb: bool = False) -> Face: ...
    def only_face(self, image: ImageLike, rgb: bool = False) -> Face: ...
    def detect_people(self, image: ImageLike, threshold: float = 0.35,
                      rgb: bool = False) -> List[Tuple[float, float, float, float, float]]: ...
    def extract_one(self, image: ImageLike, landmarks: Any = None, rgb: bool = False) -> npt.NDArray[np.float32]: ...
    def extract_faces(self, image: ImageLike, landmarks: Sequence[Any], rgb: bool = False) -> npt.NDArray[np.float32]: ...
    def extract_batch(self, images: Sequence[ImageLike], landmarks: Any = None,
                      rgb: bool = False) -> npt.NDArray[np.float32]: ...
    def attributes(self, image: ImageLike, landmarks: Any, rgb: bool = False) -> FaceAttributes: ...
    def face_crop(self, image: ImageLike, landmarks: Any, rgb: bool = False) -> FaceCrop: ...
    def extract_crop(self, crop: FaceCrop) -> npt.NDArray[np.float32]: ...
    def live_signals(self, image: ImageLike, rgb: bool = False) -> LiveSignals: ...
    def check_liveness(self, action: str, image1: ImageLike, image2: ImageLike, rgb: bool = False) -> LiveCheck: ...
    def hair_style(self, image: ImageLike, face: Face, rgb: bool = False) -> str: ...
    def score(self, cosine: float) -> float: ...
    def cosine_for_score(self, score: float) -> float: ...
    @staticmethod
    def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float: ...
    @property
    def descriptor(self) -> str: ...  # "accurate" or "fast"
    @property
    def dimension(self) -> int: ...
    @property
    def feature_model_id(self) -> str: ...

class NativeRegistry:
    def __init__(self, path: str, dimension: int, feature_model_id: str, hnsw_m: int = 16,
                 hnsw_ef_construction: int = 200, hnsw_ef_search: int = 64,
                 insert_threads: int = 0) -> None: ...
    def put(self, group: str, face_id: str, features: Any, crops: Sequence[FaceCrop] = ...) -> None: ...
    def put_many(self, group: str, face_ids: Sequence[str], features: npt.ArrayLike) -> None: ...
    def save_snapshot(self) -> None: ...
    def remove(self, group: str, face_id: str) -> bool: ...
    def remove_range(self, group: str, max_face_id: str) -> int: ...
    def contains(self, group: str, face_id: str) -> bool: ...
    def count(self, group: str) -> int: ...
    def count_all(self) -> int: ...
    def groups(self) -> List[str]: ...
    @property
    def startup(self) -> Dict[str, Any]: ...
    def search(self, group: str, feature: npt.ArrayLike, topk: int = 5, min_cosine: float = -1.0) -> List[SearchHit]: ...
