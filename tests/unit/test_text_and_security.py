"""Text folding and snippets, password and token hashing, secrets at rest, and the settings."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError

from bandeja.config import Settings
from bandeja.core.security import (
    TOKEN_PREFIX,
    SecretBox,
    hash_password,
    hash_token,
    new_token,
    verify_password,
)
from bandeja.core.text import fold, search_words, snippet


@pytest.fixture(autouse=True)
def _no_bandeja_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read BANDEJA_* variables; the tests pass every value they rely on."""
    import os

    for name in list(os.environ):
        if name.startswith("BANDEJA_") and name != "BANDEJA_TEST_BACKENDS":
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("given", "folded"),
    [
        ("Perché", "perche"),
        ("PERCHÉ", "perche"),
        ("José Núñez", "jose nunez"),
        ("Straße", "strasse"),
        ("ÀÉÎÕÜ ç", "aeiou c"),
        ("ﬁne", "fine"),  # compatibility ligature
        ("already plain 123", "already plain 123"),
        ("", ""),
    ],
)
def test_fold_lowercases_and_strips_accents(given, folded):
    assert fold(given) == folded
    assert fold(fold(given)) == fold(given)


def test_search_words_are_folded_words_at_most_eight():
    assert search_words("¿Dónde está  mi PEDIDO?") == ["donde", "esta", "mi", "pedido"]
    assert search_words("perché-no, 'quote' a&b") == ["perche", "no", "quote", "a", "b"]
    assert search_words("  ?!  ") == []
    many = " ".join(f"w{i}" for i in range(20))
    assert search_words(many) == [f"w{i}" for i in range(8)]
    assert search_words(many, limit=3) == ["w0", "w1", "w2"]


def test_snippet_flattens_whitespace_and_cuts_with_an_ellipsis():
    assert snippet("  hello \n\n  world\t!  ") == "hello world !"
    assert snippet("x" * 140) == "x" * 140
    cut = snippet("word " * 100)
    assert len(cut) <= 140
    assert cut.endswith("…")
    assert not cut.endswith(" …")
    assert snippet("abcdef", length=4) == "abc…"
    assert snippet("") == ""


def test_password_hashes_verify_only_the_right_password():
    # Production cost (~0.1 s each): hash once, verify the right and a wrong password.
    hashed = hash_password("correct horse")
    assert hashed != "correct horse"
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse") is True
    assert verify_password(hashed, "correct horsE") is False
    assert verify_password(None, "correct horse") is False  # unknown user (dummy hash)
    assert verify_password("not-a-hash", "correct horse") is False
    # Hashes made with other (cheaper or older) parameters still verify.
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    other = cheap.hash("pw")
    assert other != cheap.hash("pw")  # salted
    assert verify_password(other, "pw") is True
    assert verify_password(other, "px") is False
    assert verify_password(other, "") is False


def test_tokens_are_random_and_stored_as_a_sha256():
    a, b = new_token(), new_token()
    assert a != b
    assert a.startswith(TOKEN_PREFIX)
    assert len(a) >= 40
    assert hash_token(a) == hash_token(a) != hash_token(b)
    assert len(hash_token(a)) == 64
    assert int(hash_token(a), 16) >= 0
    assert a not in hash_token(a)
    # SHA-256 of the UTF-8 token, as stored in api_tokens.token_hash.
    assert hash_token("bdj_x") == hashlib.sha256(b"bdj_x").hexdigest()


def test_secret_box_round_trips_and_refuses_another_key():
    box = SecretBox("one key " * 4)
    sealed = box.seal('{"access_token": "EAAB-secret"}')
    assert "EAAB-secret" not in sealed
    assert box.seal("same") != box.seal("same")  # fresh IV each time
    assert box.open(sealed) == '{"access_token": "EAAB-secret"}'
    assert SecretBox("one key " * 4).open(sealed) == '{"access_token": "EAAB-secret"}'
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox("another key").open(sealed)
    with pytest.raises(ValueError, match="cannot be decrypted"):
        box.open(sealed[:-4] + "AAAA")
    with pytest.raises(ValueError, match="cannot be decrypted"):
        box.open("not a token at all")


def test_settings_refuse_production_without_a_real_secret_key(tmp_path: Path):
    url = "postgresql://u:p@db/bandeja"
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env="production", data_dir=tmp_path, database_url=url)
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env="production", data_dir=tmp_path, database_url=url, secret_key="short")
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env="production", data_dir=tmp_path, database_url=url, secret_key="k" * 31)
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(env="production", data_dir=tmp_path, secret_key="k" * 32)
    ok = Settings(env="production", data_dir=tmp_path, database_url=url, secret_key="k" * 32)
    assert ok.resolved_secret_key() == "k" * 32
    assert not (tmp_path / "secret.key").exists()
    # Outside production an empty key is fine: one is generated.
    assert Settings(env="development", data_dir=tmp_path).secret_key == ""


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("BANDEJA_ENV", "production")
    monkeypatch.setenv("BANDEJA_SECRET_KEY", "e" * 40)
    monkeypatch.setenv("BANDEJA_DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("BANDEJA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BANDEJA_PORT", "9001")
    settings = Settings()
    assert (settings.env, settings.port, settings.data_dir) == ("production", 9001, tmp_path)
    assert settings.effective_database_url == "postgresql+asyncpg://u@h/db"
    monkeypatch.setenv("BANDEJA_PORT", "70000")
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(
    ("given", "effective"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgres://u:p@h/db?sslmode=require", "postgresql+asyncpg://u:p@h/db?sslmode=require"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///var/x.db", "sqlite+aiosqlite:///var/x.db"),
        ("sqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("sqlite+aiosqlite:///y.db", "sqlite+aiosqlite:///y.db"),
    ],
)
def test_effective_database_url_picks_the_async_drivers(given, effective, tmp_path: Path):
    assert Settings(data_dir=tmp_path, database_url=given).effective_database_url == effective


def test_the_default_database_is_sqlite_in_the_data_dir(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'data'}/bandeja.db"


def test_a_development_key_is_generated_once_and_kept_private(tmp_path: Path):
    settings = Settings(env="development", data_dir=tmp_path / "d")
    key = settings.resolved_secret_key()
    assert len(key) >= 32
    path = tmp_path / "d" / "secret.key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings(env="development", data_dir=tmp_path / "d").resolved_secret_key() == key
    assert Settings(data_dir=tmp_path / "d", secret_key="given").resolved_secret_key() == "given"
