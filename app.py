"""LayerLab entry point: the shared frame (page setup, language, session status) and the router.

The frame lives in components.app_frame.run_app so that a page opened by direct URL on a
fresh server (Streamlit's legacy pages/ mode) can draw the same frame around itself.
Only st.navigation's menu is shown: `.streamlit/config.toml` hides the legacy one.
No TensorFlow here or on Home: the landing page must paint fast.
"""
from components.app_frame import run_app

run_app()
