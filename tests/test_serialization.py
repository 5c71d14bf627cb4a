"""striate.save / striate.load: safetensors round trips, nested checkpoints, atomic writes."""

import json
import os

import numpy as np
import pytest

import striate
from striate import serialization

safetensors = pytest.importorskip("safetensors")


class _TensorLike:
    """Anything with an ndarray ``.data`` is stored as an array (a striate Tensor is one)."""

    def __init__(self, data):
        self.data = data


def _assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_flat_state_dict_round_trip_keeps_names(tmp_path):
    rng = np.random.default_rng(0)
    sd = {"conv1.weight": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
          "conv1.bias": np.zeros(4, np.float32),
          "bn.num_batches_tracked": np.array(7, np.int64),
          "mask": np.array([True, False]),
          "empty": np.zeros((0, 5), np.float64),
          "t": np.arange(6, dtype=np.float32).reshape(2, 3).T}  # non-contiguous
    path = tmp_path / "model.safetensors"
    striate.save(sd, path)
    _assert_same(striate.load(path), sd)
    # other safetensors readers see the state dict's own names
    from safetensors.numpy import load_file

    assert sorted(load_file(str(path))) == sorted(sd)


def test_nested_checkpoint_round_trip(tmp_path):
    ckpt = {
        "model": {"fc.weight": _TensorLike(np.ones((2, 3), np.float32)),
                  "fc.bias": np.zeros(2, np.float32)},
        "optimizer": {"state": {0: {"step": 3, "exp_avg": np.full((2, 3), 0.5, np.float32)},
                                1: {"step": 3, "exp_avg": np.ones(2, np.float32)}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False,
                                        "params": [0, 1], "name": None}]},
        "scheduler": {"last_epoch": 4, "base_lrs": [0.1], "inf": float("inf"),
                      "nan": float("nan")},
        "epoch": 3, "np_scalar": np.float32(2.5),
        "history": [{"loss": 1.5}, {"loss": 0.5}],
    }
    path = tmp_path / "ckpt.safetensors"
    striate.save(ckpt, path, metadata={"arch": "cnn", "config": {"num_classes": 10}})
    out = striate.load(path)
    expected = dict(ckpt)
    expected["model"] = {"fc.weight": np.ones((2, 3), np.float32),
                         "fc.bias": np.zeros(2, np.float32)}
    expected["np_scalar"] = 2.5
    _assert_same(out, expected)
    assert isinstance(out["optimizer"]["param_groups"][0]["betas"], tuple)
    assert list(out["optimizer"]["state"]) == [0, 1]
    from safetensors.numpy import load_file

    assert "optimizer.state.0.exp_avg" in load_file(str(path))
    meta = striate.load_metadata(path)
    assert meta["arch"] == "cnn" and meta["config"] == {"num_classes": 10}
    assert meta["striate_version"] == striate.__version__
    arr = out["model"]["fc.weight"]
    arr += 1  # loaded arrays are writable


def test_foreign_safetensors_file_loads_flat(tmp_path):
    from safetensors.numpy import save_file

    path = str(tmp_path / "foreign.safetensors")
    save_file({"a.b": np.ones(3, np.float32)}, path, metadata={"format": "pt"})
    out = striate.load(path)
    assert list(out) == ["a.b"]
    assert striate.load_metadata(path) == {"format": "pt"}


def test_bad_inputs(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="expected a dict"):
        striate.save([np.ones(2)], path)
    with pytest.raises(TypeError, match="cannot store a object at 'a.b'"):
        striate.save({"a": {"b": object()}}, path)
    with pytest.raises(TypeError, match="dict keys must be str or int"):
        striate.save({"a": {(1, 2): 3}}, path)
    with pytest.raises(ValueError, match="same name 'a.b'"):
        striate.save({"a.b": np.ones(1), "a": {"b": np.ones(1)}}, path)
    with pytest.raises(TypeError, match="JSON-serialisable"):
        striate.save({"a": np.ones(1)}, path, metadata={"x": object()})
    with pytest.raises(FileNotFoundError, match="no such file"):
        striate.load(tmp_path / "missing.safetensors")
    assert not os.listdir(tmp_path)


def test_crash_mid_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    striate.save({"w": np.ones(4, np.float32), "epoch": 1}, path)
    before = path.read_bytes()

    def crashing_writer(tensors, tmp, metadata):
        with open(tmp, "wb") as f:
            f.write(b"partial garbage")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(serialization, "_write_safetensors", crashing_writer)
    with pytest.raises(OSError, match="simulated"):
        striate.save({"w": np.zeros(4, np.float32), "epoch": 2}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # temporary file removed
    assert striate.load(path)["epoch"] == 1


def test_crash_before_rename_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    striate.save({"epoch": 1}, path)

    def failing_replace(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization.os, "replace", failing_replace)
    with pytest.raises(KeyboardInterrupt):
        striate.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert striate.load(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_overwrite_and_file_mode(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    striate.save({"epoch": 1}, path)
    os.chmod(path, 0o640)
    striate.save({"epoch": 2}, path)
    assert striate.load(path) == {"epoch": 2}
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_load_never_unpickles(tmp_path):
    """A header is parsed as JSON only: a structure naming an unknown kind is an error."""
    from safetensors.numpy import save_file

    path = str(tmp_path / "evil.safetensors")
    structure = {"t": "dict", "items": [["x", {"t": "pickle", "v": "cos\nsystem\n"}]]}
    save_file({}, path, metadata={"striate.format": "1",
                                  "striate.structure": json.dumps(structure)})
    with pytest.raises(ValueError, match="malformed striate structure"):
        striate.load(path)


def _rewrite_header(src, dst, edit):
    """Copy the safetensors file ``src`` to ``dst`` with ``edit(header_dict)`` applied."""
    import struct

    with open(src, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    edit(header)
    hb = json.dumps(header).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])
    return dst


@pytest.mark.parametrize("found, needle", [
    ("99", ("has striate format '99', this version reads '1'; it was written by a newer "
            "striate (9.9), upgrade")),
    ("banana", "has striate format 'banana', this version reads '1'"),
    ("0", "has striate format '0', this version reads '1'"),
    (None, "has a striate structure but no striate.format entry (supported: '1')"),
])
def test_load_checks_the_format_version(tmp_path, found, needle):
    good = tmp_path / "good.safetensors"
    striate.save({"w": np.ones(3, np.float32)}, good, metadata={"arch": "x"})

    def edit(h):
        h["__metadata__"]["striate.version"] = "9.9"
        if found is None:
            del h["__metadata__"]["striate.format"]
        else:
            h["__metadata__"]["striate.format"] = found

    bad = str(_rewrite_header(good, tmp_path / "bad.safetensors", edit))
    for fn, who in ((striate.load, "striate.load"),
                    (striate.load_metadata, "striate.load_metadata")):
        with pytest.raises(ValueError) as e:
            fn(bad)
        assert str(e.value).startswith(f"{who}: '{bad}' ") and needle in str(e.value)
    assert striate.load(good)["w"].shape == (3,)   # the current format loads


def test_unreadable_files_raise_value_or_os_errors_naming_the_file(tmp_path):
    """Truncated, corrupt and non-safetensors files: ValueError (not safetensors' own error
    type, which is a plain Exception) naming the file; a directory: IsADirectoryError."""
    good = tmp_path / "good.safetensors"
    striate.save({"w": np.ones(3, np.float32)}, good, metadata={"arch": "x"})
    raw = good.read_bytes()
    cases = {"truncated": raw[:-5], "garbage": b"not a safetensors file at all",
             "empty": b"", "huge_header_length": b"\xff" * 8 + raw[8:]}
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        for fn, who in ((striate.load, "striate.load"),
                        (striate.load_metadata, "striate.load_metadata")):
            with pytest.raises(ValueError, match="is not a valid safetensors file") as e:
                fn(p)
            assert str(e.value).startswith(f"{who}: '{p}' "), (name, e.value)
    for fn in (striate.load, striate.load_metadata):
        with pytest.raises(IsADirectoryError, match=f"'{tmp_path}' is a directory"):
            fn(tmp_path)
        with pytest.raises(FileNotFoundError, match="no such file"):
            fn(tmp_path / "missing")


def test_malformed_headers_raise_value_errors(tmp_path):
    good = tmp_path / "good.safetensors"
    striate.save({"w": np.ones(3, np.float32)}, good, metadata={"arch": "x"})

    def set_meta(key, value):
        def edit(h):
            h["__metadata__"][key] = value
        return edit

    deep = str(_rewrite_header(good, tmp_path / "deep.safetensors",
                               set_meta("striate.structure", "[" * 100000 + "]" * 100000)))
    with pytest.raises(ValueError, match=r"malformed striate structure header \(nested too"):
        striate.load(deep)
    meta = str(_rewrite_header(good, tmp_path / "meta.safetensors",
                               set_meta("striate.metadata", "{not json")))
    with pytest.raises(ValueError, match=f"striate.load_metadata: '{meta}' has malformed "
                                         r"metadata \(striate.metadata: Expecting"):
        striate.load_metadata(meta)
    assert striate.load(meta)["w"].shape == (3,)   # load() does not read the user metadata


def test_dtype_numpy_lacks_is_a_value_error_naming_tensor(tmp_path):
    import struct

    header = json.dumps({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    header += b" " * ((8 - len(header) % 8) % 8)
    p = tmp_path / "bf16.safetensors"
    p.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)
    with pytest.raises(ValueError, match=f"striate.load: '{p}': tensor 'x' has dtype BF16, "
                                         "which NumPy cannot represent"):
        striate.load(p)
    assert striate.load_metadata(p) == {}


@pytest.mark.parametrize("arr", [
    np.array([1j]), np.array(["a"]), np.array([b"a"]), np.array(["2020-01-01"], "M8[D]"),
    np.zeros(2, [("a", "f4"), ("b", "i4")]), np.array([None, None]),
    np.zeros(2, np.longdouble) if np.dtype(np.longdouble).itemsize > 8 else np.array([1j]),
])
def test_save_refuses_unstorable_dtypes_with_type_error_naming_the_entry(tmp_path, arr):
    path = tmp_path / "x.safetensors"
    import re

    with pytest.raises(TypeError, match=re.escape(f"striate.save: array at 'model.w' has dtype "
                                                  f"{arr.dtype}, which cannot be stored")):
        striate.save({"model": {"w": _TensorLike(arr)}}, path)
    assert not os.listdir(tmp_path)


def test_save_big_endian_arrays_round_trip(tmp_path):
    path = tmp_path / "x.safetensors"
    striate.save({"w": np.arange(3, dtype=">f4"), "i": np.arange(2, dtype=">i8")}, path)
    out = striate.load(path)
    np.testing.assert_array_equal(out["w"], [0, 1, 2])
    np.testing.assert_array_equal(out["i"], [0, 1])


def test_save_self_reference_and_depth_are_value_errors(tmp_path):
    path = tmp_path / "x.safetensors"
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself at 'l.0'"):
        striate.save({"l": loop}, path)
    d = {"a": {}}
    d["a"]["b"] = d
    with pytest.raises(ValueError, match="contains itself at 'x.a.b'"):
        striate.save({"x": d}, path)
    deep = [1]
    for _ in range(100000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested too deeply"):
        striate.save({"deep": deep}, path)
    m = {}
    m["m"] = m
    with pytest.raises(ValueError, match="metadata cannot be stored as JSON"):
        striate.save({"w": np.ones(1)}, path, metadata=m)
    assert not os.listdir(tmp_path)
    shared = [1, 2]   # the same object twice is not a cycle
    striate.save({"a": shared, "b": (shared, shared)}, path)
    assert striate.load(path) == {"a": [1, 2], "b": ([1, 2], [1, 2])}


def test_save_errors_name_the_target_not_the_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "missing_dir" / "x.safetensors"
    with pytest.raises(FileNotFoundError) as e:
        striate.save({"w": np.ones(1)}, target)
    assert str(e.value) == f"striate.save: cannot write '{target}': No such file or directory"
    assert e.value.errno == 2
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError, match=f"cannot write '{blocker}/x.st'"):
        striate.save({"w": np.ones(1)}, blocker / "x.st")

    def failing_replace(src, dst):
        raise PermissionError(13, "Permission denied", src)

    monkeypatch.setattr(serialization.os, "replace", failing_replace)
    path = tmp_path / "ok.safetensors"
    with pytest.raises(PermissionError) as e:
        striate.save({"w": np.ones(1)}, path)
    assert str(e.value) == f"striate.save: cannot write '{path}': Permission denied"
    assert ".tmp" not in str(e.value) and sorted(os.listdir(tmp_path)) == ["file"]


def _age(path, seconds):
    """Set the modification time of ``path`` and everything in it ``seconds`` in the past."""
    import time

    t = time.time() - seconds
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.utime(os.path.join(root, n), (t, t), follow_symlinks=False)
    os.utime(path, (t, t), follow_symlinks=False)


def test_a_killed_save_leaves_the_old_file_and_the_next_save_tidies_up(tmp_path):
    """SIGKILL mid-write: the old file is intact; what the killed save left (a hidden
    directory with the partial file) is removed by the next save of the same file once it
    is an hour old and its writer's lock is gone with the process."""
    import signal
    import subprocess
    import sys

    path = tmp_path / "ckpt.safetensors"
    striate.save({"epoch": 1}, path)
    code = (
        "import time, numpy as np, striate\n"
        "from striate import serialization as s\n"
        "def slow(tensors, tmp, metadata):\n"
        "    open(tmp, 'wb').write(b'partial' * 1000)\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "s._write_safetensors = slow\n"
        f"striate.save({{'epoch': 2}}, {str(path)!r})\n")
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(striate.__file__))}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout.readline() == b"writing\n"
        (left,) = [n for n in os.listdir(tmp_path) if n != "ckpt.safetensors"]
        assert left.startswith(".ckpt.safetensors.") and left.endswith(".tmp")
        _age(tmp_path / left, 2 * serialization._STALE_TEMP_SECONDS)
        striate.save({"epoch": 3}, path)   # old, but its writer is alive (locked): kept
        assert os.path.isdir(tmp_path / left)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        proc.kill()
        proc.wait()
    assert striate.load(path) == {"epoch": 3}
    assert os.path.getsize(tmp_path / left / "ckpt.safetensors") == 7000
    striate.save({"epoch": 4}, path)   # its writer died: removed
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]
    assert striate.load(path) == {"epoch": 4}


def test_tidying_removes_only_stale_unlocked_temporaries_of_that_file(tmp_path):
    import fcntl

    path = tmp_path / "ckpt.safetensors"
    striate.save({"epoch": 1}, path)
    old = 2 * serialization._STALE_TEMP_SECONDS

    def temp_dir(name, lock=True, age=old, inner_age=old):
        d = tmp_path / name
        d.mkdir()
        (d / "ckpt.safetensors").write_bytes(b"partial")
        if lock:
            (d / ".lock").write_bytes(b"")
        _age(d, age)
        os.utime(d / "ckpt.safetensors", (os.stat(d).st_mtime + old - inner_age,) * 2)
        return d

    stale = temp_dir(".ckpt.safetensors.abcd1234.tmp")
    no_lock = temp_dir(".ckpt.safetensors.nolock01.tmp", lock=False)   # killed before locking
    live = temp_dir(".ckpt.safetensors.live0001.tmp")
    busy = temp_dir(".ckpt.safetensors.busy0001.tmp", inner_age=0)   # data still changing
    other = temp_dir(".other.safetensors.abcd1234.tmp")
    legacy = tmp_path / ".ckpt.safetensors.legacy01.tmp"   # a bare file (older versions)
    legacy.write_bytes(b"partial")
    _age(legacy, old)
    user = tmp_path / "ckpt.safetensors.abcd1234.tmp"
    user.write_bytes(b"x")
    _age(user, old)
    target = temp_dir("elsewhere")
    link = tmp_path / ".ckpt.safetensors.link0001.tmp"
    os.symlink(target, link)
    with open(live / ".lock", "r+b") as f:   # a writer still at work holds the lock
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        striate.save({"epoch": 2}, path)
        assert live.exists()
    assert striate.load(path) == {"epoch": 2}
    assert not stale.exists() and not no_lock.exists() and not legacy.exists()
    for p in (live, busy, other, user, target, target / "ckpt.safetensors"):
        assert p.exists(), p
    assert os.path.islink(link)
    striate.save({"epoch": 3}, path)   # that writer is gone, its lock with it
    assert not live.exists() and busy.exists()


def test_the_temporary_file_is_locked_while_written(tmp_path, monkeypatch):
    import fcntl

    seen = []
    real = serialization._write_safetensors

    def probe(tensors, tmp, metadata):
        real(tensors, tmp, metadata)
        work = os.path.dirname(tmp)
        seen.append(os.path.basename(work).startswith(".x.safetensors."))
        with open(os.path.join(work, ".lock"), "r+b") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                seen.append("unlocked")
            except BlockingIOError:
                seen.append("locked")

    monkeypatch.setattr(serialization, "_write_safetensors", probe)
    striate.save({"w": np.ones(2)}, tmp_path / "x.safetensors")
    assert seen == [True, "locked"]
    assert os.listdir(tmp_path) == ["x.safetensors"]
