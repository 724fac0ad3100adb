"""Worker processes shared by ``cjkv build-data`` and ``cjkv phonemize``.

:mod:`~cjkv_phon.workers.lifetime`: how a worker lives and dies (dies with its parent, leaves
signals to it; SIGTERM unwinds like Ctrl-C in the parent; fork or spawn; the frozen heap).
:mod:`~cjkv_phon.workers.pool`: the pool itself (set up once, lanes, Arrow IPC, errors, kill).
"""
