"""The embedded Redis: one server per data folder, shared, persistent across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from collector.embedded import EmbeddedRedis, answers, socket_path_for


def client_of(server: EmbeddedRedis) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(server.socket_path))


def test_a_second_process_reaches_the_running_server(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path).ensure()
    second = EmbeddedRedis(tmp_path).ensure()
    try:
        assert first.owned and not second.owned
        client_of(first).set("k", "v")
        assert client_of(second).get("k") == b"v"
        second.stop()  # not the owner: the server stays up
        assert client_of(first).ping()
    finally:
        first.stop()
    assert not _answers(first)


def _answers(server: EmbeddedRedis) -> bool:
    return answers(server.socket_path)


def test_data_survives_a_restart_through_the_append_only_file(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path).ensure()
    client_of(server).xadd("s", {"n": "1"})
    server.stop()
    assert (tmp_path / "appendonly.aof").exists() or (tmp_path / "appendonlydir").exists()
    again = EmbeddedRedis(tmp_path).ensure()
    try:
        assert client_of(again).xlen("s") == 1
        assert client_of(again).config_get("appendonly") == {"appendonly": "yes"}
    finally:
        again.stop()


def test_a_temporary_user_leaves_the_server_of_serve_running(tmp_path: Path) -> None:
    serve = EmbeddedRedis(tmp_path).ensure()
    serve.hold()
    try:
        with pytest.raises(RuntimeError, match=r"another clicktrail is using .* \(pid \d+\)"):
            EmbeddedRedis(tmp_path).ensure().hold()
        assert _answers(serve)
    finally:
        serve.stop()
    assert not _answers(serve)


def test_long_data_paths_get_a_short_socket(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    assert len(str(socket_path_for(deep))) <= 100
    assert socket_path_for(deep) == socket_path_for(deep)
