"""What a site name may be, and a labelled name (`site/name`) split into its parts.

Its own module because both `classifier.sites` (which labels a site's events and
adds up its days) and `classifier.kpi` (whose thresholds match a labelled queue,
docs/kpi.md "Several sites") read them, and `classifier.sites` imports
`classifier.kpi`.

Pure.
"""

from __future__ import annotations

import re

#: What a site name may be: it ends up in labels, URLs and file names.
SITE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Between a site and the name it labels.
SEPARATOR = "/"


def split_label(name: str) -> tuple[str, str] | None:
    """`(site, name)` of a labelled `site/name` whose site part is a site name; None
    for any other name (a queue of one hub's own, even one with a `/` after a part
    that cannot be a site, such as `Sales EU/2`)."""
    site, sep, rest = name.partition(SEPARATOR)
    if not sep or not rest or not SITE_PATTERN.fullmatch(site):
        return None
    return site, rest
