"""`meshlint fix`: the fixes that rules declare, applied surgically and verified.

A rule puts a `Fix` on its finding: structured `Edit`s (set, insert, remove a field, create a
resource) and how far they may be trusted (`Applicability`). This package applies them and
knows no rule:

- `edits.py`: edit builders several rules share (an annotation on a pod template, outlier
  detection on a DestinationRule);
- `plan.py`: a finding's edits as ops on the documents that hold the resources;
- `surgery.py`: an op applied to a document's text, changing only the lines it must, with
  `style.py` writing new lines as the lines around them are written;
- `fallback.py`: a ruamel.yaml round trip for one document the surgery does not follow;
- `verify.py`: every edited document parsed again and compared with what the fix meant;
- `run.py`: the rounds of fixing and checking again until nothing is left to fix;
- `offer.py`: each fix on its own as text edits of the input as read, for SARIF's `fixes`;
- `model.py`, `diff.py`, `render.py`: what the command produces (changed files, the `--diff`,
  the account of what was fixed and what is left).

Only `meshlint fix` (and the SARIF report, which offers each fix) imports it.
"""
