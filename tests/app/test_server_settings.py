"""Server settings a shared deployment relies on: XSRF protection, an upload limit that matches
the app's own cap, and no per-user data in Streamlit's server-wide caches."""
from __future__ import annotations

import ast
import tomllib

from core.data.limits import MB, Limits
from tests.app.apptest import ROOT

CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
# The only functions allowed in st.cache_data / st.cache_resource: shared by every session,
# they must take no per-user input. Name -> why it is safe.
SHARED_CACHES = {"get_training_service": "the server-wide training queue; runs live in each session's workspace"}


def test_xsrf_protection_stays_on():
    assert CONFIG["server"]["enableXsrfProtection"] is True


def test_the_upload_limit_matches_the_apps_own_cap():
    limit_mib = CONFIG["server"]["maxUploadSize"]  # Streamlit counts megabytes of 1024 × 1024 bytes
    cap = Limits().upload_bytes
    # The uploader's "Limit 200MB per file" shows the same number as the app's messages ("200 MB")...
    assert limit_mib == cap // MB
    # ...and every file within the app's cap reaches the app, which refuses bigger ones with its own message.
    assert limit_mib * 1024 * 1024 >= cap


def cached_functions() -> dict[str, tuple[str, list[str]]]:
    """Every function decorated with st.cache_data / st.cache_resource in the app's code:
    name -> (file, its parameter names)."""
    found = {}
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "components").rglob("*.py"), *(ROOT / "core").rglob("*.py")]:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    if isinstance(target, ast.Attribute) and target.attr in ("cache_data", "cache_resource"):
                        found[node.name] = (str(path.relative_to(ROOT)), [a.arg for a in node.args.args])
    return found


def test_nothing_per_user_is_in_streamlits_global_caches():
    found = cached_functions()
    assert set(found) <= set(SHARED_CACHES), f"unexpected server-wide caches: {set(found) - set(SHARED_CACHES)}"
    for name, (file, params) in found.items():
        assert params == [], f"{file}: {name} is shared by every session, so it must take no per-user input"


def test_the_shared_training_service_holds_no_user_data():
    """Its state is worker processes and run handles; the data and models are in run folders
    inside each session's workspace."""
    from core.training import TrainingService

    service = TrainingService(max_concurrent=1, keep_warm=False)
    try:
        kinds = {type(value).__name__ for value in vars(service).values()}
        assert not kinds & {"Dataset", "ProjectSpec", "Workspace", "DataFrame", "ndarray"}
    finally:
        service.shutdown()
