"""What the Actual confirmation page was computed from, as a fingerprint carried in its form.

"Send now" builds the message again from the form and the state in force at that moment. If
another officer changed the municipality's state in between, the new build differs from what
the officer confirmed: other messages are referenced (an Update of a newer message), other
orders or areas are listed. The fingerprint is a hash of the built message without what only
the clock changes (its identifier, times and dates), so an unchanged state gives the same
fingerprint and a changed one a different fingerprint, and the console refuses to send what
was not confirmed.
"""

from __future__ import annotations

import hashlib
import json
import re

from alertcommons.cap import to_json
from alertcommons.cap.model import Alert

FIELD = "confirmed_state"

# Moments written by the builders: ISO date-times (sent, effective, expires, an order's
# "since"), and dates and times in the Japanese and English texts.
_MOMENTS = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"
    r"|\d{8}T\d{6}"
    r"|(?:\d{4}年)?\d{1,2}月\d{1,2}日\s*(?:\d{1,2}時(?:\d{1,2}分)?)?"
    r"|\d{1,2}時\d{1,2}分"
    r"|\d{1,2}:\d\d(?::\d\d)?"
    r"|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}(?:, \d{4})?"
    r"|\b\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*(?: \d{4})?"
)
_CLOCK_ONLY = ("identifier", "sent")


def fingerprint(alert: Alert) -> str:
    document = {k: v for k, v in to_json(alert).items() if k not in _CLOCK_ONLY}
    text = _MOMENTS.sub("", json.dumps(document, sort_keys=True, ensure_ascii=False))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
