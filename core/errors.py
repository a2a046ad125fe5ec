"""The one error type for problems the user can fix.

Pages show these with st.error, the CLI prints them and exits 2. Anything else is a bug
and is allowed to propagate.
"""
from __future__ import annotations


class UserError(Exception):
    """A problem caused by the user's input, with a message a non-programmer understands.

    `code` is stable (translations and tests key on it), `template` is the English text
    with `{named}` placeholders and `params` fills them.
    """

    def __init__(self, code: str, message: str, **params: object) -> None:
        self.code = code
        self.template = message
        self.params = params
        super().__init__(self.render("en"))

    def render(self, lang: str = "en") -> str:
        from core.i18n import translate_error

        return translate_error(self.code, self.template, lang, **self.params)
