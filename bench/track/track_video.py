"""Tracks faces through a real video frame by frame (facekit.FaceTracker, the engine of
interface 5's track mode) and reports tracks, track changes and per-frame latency.

    python bench/track/track_video.py [--video PATH] [--every N] [--sheet OUT.png]

Default video: Megamind.avi from Debian's opencv-doc. --sheet writes one thumbnail per
frame where the set of track ids changes, for checking by eye whether it was an ID switch.
"""
import argparse
import statistics
import time

import cv2
import numpy as np

import facekit

VIDEO = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", default=VIDEO)
    ap.add_argument("--every", type=int, default=1, help="use every Nth frame")
    ap.add_argument("--fps", type=float, default=0, help="frame rate for timestamps (0: the video's)")
    ap.add_argument("--sheet", help="PNG of the frames where the track ids change")
    args = ap.parse_args()
    engine = facekit.Engine()
    tracker = facekit.FaceTracker(engine, min_face=40, max_face=600)
    cap = cv2.VideoCapture(args.video)
    fps = args.fps or cap.get(cv2.CAP_PROP_FPS) or 25.0
    latencies, ended, changes, thumbs = [], [], [], []
    previous, n, index = set(), 0, -1
    faces_seen = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        index += 1
        if index % args.every:
            continue
        t0 = time.perf_counter()
        update = tracker.update(frame, f"f{index}", int(index * 1000 / fps))
        latencies.append((time.perf_counter() - t0) * 1000)
        n += 1
        ids = {f.track_id for f in update.faces}
        faces_seen += len(update.faces)
        ended += update.ended
        if ids != previous:
            changes.append((index, sorted(previous), sorted(ids)))
            if args.sheet:
                thumb = frame.copy()
                for f in update.faces:
                    b = f.face.box
                    cv2.rectangle(thumb, (int(b.left), int(b.top)), (int(b.left + b.width), int(b.top + b.height)),
                                  (0, 255, 0), 2)
                    cv2.putText(thumb, str(f.track_id), (int(b.left), int(b.top) - 4), cv2.FONT_HERSHEY_SIMPLEX, 1,
                                (0, 255, 0), 2)
                cv2.putText(thumb, f"frame {index}", (5, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 255), 2)
                thumbs.append(cv2.resize(thumb, (320, int(320 * thumb.shape[0] / thumb.shape[1]))))
        previous = ids
    ended += tracker.finish()
    print(f"video {args.video}: {n} frames used (every {args.every}), {faces_seen} face detections")
    print(f"tracks: {len(ended)} ended; changes of the visible track ids: {len(changes)}")
    for idx, before, after in changes:
        print(f"  frame {idx}: {before} -> {after}")
    for t in ended:
        print(f"  track {t.track_id}: {t.in_ms}..{t.out_ms} ms, best {t.best_image_id}, jpeg {len(t.best_jpeg)} B")
    lat = sorted(latencies)
    print(f"per-frame latency ms: median {statistics.median(lat):.1f}, p90 {lat[int(0.9 * (len(lat) - 1))]:.1f}, "
          f"max {lat[-1]:.1f}")
    if args.sheet and thumbs:
        while len(thumbs) % 4:
            thumbs.append(np.zeros_like(thumbs[0]))
        rows = [np.hstack(thumbs[i:i + 4]) for i in range(0, len(thumbs), 4)]
        cv2.imwrite(args.sheet, np.vstack(rows))


if __name__ == "__main__":
    main()
