"""Serving a trained model over HTTP: `python -m core serve RUN_DIR` (app.py) and serving.zip's
standalone service (standalone.py, copied into the zip as serve.py; savedmodel.py writes the zip).
standalone.py is the one home of the HTTP contract; nothing here imports Keras at module level."""
