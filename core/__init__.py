"""LayerLab's machine-learning core: data, design, training, evaluation, export.

Headless and Streamlit-free. Importing `core` is cheap: TensorFlow/Keras are imported
inside the functions that need them.
"""
from core.errors import UserError

__version__ = "0.1.0"
__all__ = ["UserError", "__version__"]
