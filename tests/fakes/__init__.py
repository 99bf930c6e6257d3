"""Local stand-ins for outside services (tests import them as `fakes.*`; tests/ is on sys.path).

genius_server.FakeGenius serves the Genius API and song pages on 127.0.0.1 with scripted or
random faults (genius_faults.FaultMix: a weighted, reproducible mix); genius_data holds its
catalogs.
"""

from fakes.genius_catalog import FakeArtist, FakeSong
from fakes.genius_faults import FaultMix
from fakes.genius_server import TOKEN, FakeGenius, Fault

__all__ = ["TOKEN", "FakeArtist", "FakeGenius", "FakeSong", "Fault", "FaultMix"]
