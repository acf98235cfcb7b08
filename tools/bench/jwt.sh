#!/usr/bin/env bash
# JWT verification cost per call: full verification per algorithm (HS256/384/512, RS256/384/512,
# ES256/384) and a repeated token through the authentication interceptor's cache.
#   tools/bench/jwt.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
./tools/setup.sh --test >/dev/null
source tools/bench/sessiond.sh
auth_bench=$(release_build auth-bench)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python - "$work" <<'PY'
import os, sys, time
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
work = sys.argv[1]
secret = os.urandom(32).hex()
open(os.path.join(work, "secret"), "w").write(secret)
claims = {"sub": "svc", "role": "service", "org": "bench", "iat": int(time.time()), "exp": int(time.time()) + 3600}
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
keys = {"rsa2048": rsa_key, "p256": ec.generate_private_key(ec.SECP256R1()), "p384": ec.generate_private_key(ec.SECP384R1())}
for name, key in keys.items():
    open(os.path.join(work, f"{name}.pem"), "wb").write(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
def private(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
lines = [f"{alg} {jwt.encode(claims, secret, alg)}" for alg in ("HS256", "HS384", "HS512")]
lines += [f"{alg} {jwt.encode(claims, private(rsa_key), alg)}" for alg in ("RS256", "RS384", "RS512")]
lines += [f"ES256 {jwt.encode(claims, private(keys['p256']), 'ES256')}", f"ES384 {jwt.encode(claims, private(keys['p384']), 'ES384')}"]
open(os.path.join(work, "tokens.txt"), "w").write("\n".join(lines) + "\n")
PY
echo "command: taskset -c 0 auth-bench (release), $(date -u '+%Y-%m-%d %H:%M UTC')"
taskset -c 0 "$auth_bench" "$work"
