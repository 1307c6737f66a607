import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def pytest_terminal_summary(terminalreporter):
    corpus = sys.modules.get("test_corpus")
    if corpus is not None:
        for line in corpus.summary_lines():
            terminalreporter.write_line(line)
