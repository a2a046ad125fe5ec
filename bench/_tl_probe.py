import sys, time, tempfile
sys.path.insert(0, ".")
from core.quiet import import_keras
keras = import_keras()
import numpy as np
from core.data import load_sample
from core.spec import ProjectSpec
from core.training.trainer import train_in_process

ds = load_sample("digits")
preds = {}
for cache in (True, False):
    spec = ProjectSpec.from_dict({"layers": [{"type": "Backbone", "name": "MobileNetV3Small", "weights": "none", "image_size": 32,
                                              "fine_tune_layers": 5 if cache else 0, "fine_tune_epochs": 1, "cache_features": cache},
                                             {"type": "GlobalAveragePooling2D"}, {"type": "Dropout", "rate": 0.2}],
                                  "training": {"epochs": 2, "seed": 1, "batch_size": 64}})
    events = []
    t = time.time()
    with tempfile.TemporaryDirectory() as d:
        r = train_in_process(spec, ds, d, on_event=events.append)
        import os; print(os.listdir(d))
    print(cache, r.status, r.epochs_run, time.time() - t, [(e["type"], e.get("phase"), e.get("epoch")) for e in events if e["type"] in ("phase", "epoch", "start")])
    print([e.get("phases") for e in events if e["type"] == "start"])
    preds[cache] = r.model.predict(ds.x_test[:20], verbose=0)
