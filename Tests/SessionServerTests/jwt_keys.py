"""JWT verification against a real sessiond, with tokens minted by PyJWT (and the cryptography
package): every accepted algorithm, every rejection, and key rotation through a JWKS file.

    jwt_keys.py --binary PATH/sessiond

Starts sessiond itself (it needs the keys before it starts), with --jwt-public-keys (an RSA and a
P-384 PEM key), --jwks-file (RSA, P-256 and oct keys with kid), --jwt-issuer and --jwt-audience.
Each check calls GET /api/sessions (any role may list) and expects 200 or 401.
"""
import argparse
import base64
import json
import os
import subprocess
import tempfile
import time

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

passes, failures = [], []
ISSUER, AUDIENCE = "https://issuer.example", "sessions-api"


def check(condition, message):
    print(("PASS " if condition else "FAIL ") + message, flush=True)
    (passes if condition else failures).append(message)


def pem_public(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def jwk(key, kid):
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())) if isinstance(key, rsa.RSAPrivateKey) \
        else json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public["kid"] = kid
    return public


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="jwt-keys-")

    rsa_pem_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p384_pem_key = ec.generate_private_key(ec.SECP384R1())
    rsa_old = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_new = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    p256_key = ec.generate_private_key(ec.SECP256R1())
    rsa_small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    oct_secret = os.urandom(32)
    for name, key in (("rsa.pem", rsa_pem_key), ("p384.pem", p384_pem_key)):
        with open(os.path.join(work, name), "wb") as handle:
            handle.write(pem_public(key))
    jwks_path = os.path.join(work, "jwks.json")

    def write_jwks(entries):
        with open(jwks_path + ".tmp", "w") as handle:
            json.dump({"keys": entries}, handle)
        os.replace(jwks_path + ".tmp", jwks_path)

    oct_jwk = {"kty": "oct", "kid": "shared-1", "k": b64url(oct_secret)}
    write_jwks([jwk(rsa_old, "rsa-old"), jwk(p256_key, "ec-1"), jwk(rsa_small, "rsa-small"), oct_jwk,
                {"kty": "OKP", "crv": "Ed25519", "x": b64url(b"\0" * 32), "kid": "ignored"}])

    data = os.path.join(work, "data")
    server = subprocess.Popen([args.binary, "serve", "--port", "0", "--data-dir", data,
                               "--jwt-public-keys", f"{work}/rsa.pem,{work}/p384.pem", "--jwks-file", jwks_path,
                               "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline().strip()
    if not line.startswith("listening on "):
        server.kill()
        raise SystemExit(f"sessiond did not start: {line!r} {server.stderr.read()}")
    port = int(line.rsplit(":", 1)[1])
    url = f"http://127.0.0.1:{port}/api/sessions?limit=1"
    secret = open(os.path.join(data, "jwt-secret")).read().strip()

    def claims(**extra):
        now = int(time.time())
        body = {"sub": "svc-1", "role": "service", "org": "acme", "iat": now, "exp": now + 300, "iss": ISSUER, "aud": AUDIENCE}
        body.update(extra)
        return {key: value for key, value in body.items() if value is not None}

    def status(token):
        response = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        return response.status_code, (response.json().get("error") or {}).get("message", "")

    def expect(token, code, what):
        got, message = status(token)
        check(got == code, f"{what}: {code} (got {got} {message})")
        return message

    try:
        # Accepted algorithms and keys.
        expect(jwt.encode(claims(), secret, "HS256"), 200, "HS256 with the server's secret")
        expect(jwt.encode(claims(), secret, "HS384"), 200, "HS384 with the server's secret")
        expect(jwt.encode(claims(), secret, "HS512"), 200, "HS512 with the server's secret")
        for alg in ("RS256", "RS384", "RS512"):
            expect(jwt.encode(claims(), pem_private(rsa_pem_key), alg), 200, f"{alg} with the PEM RSA key")
        expect(jwt.encode(claims(), pem_private(p384_pem_key), "ES384"), 200, "ES384 with the PEM P-384 key")
        expect(jwt.encode(claims(), pem_private(rsa_old), "RS256", headers={"kid": "rsa-old"}), 200, "RS256 with a JWKS key by kid")
        expect(jwt.encode(claims(), pem_private(p256_key), "ES256", headers={"kid": "ec-1"}), 200, "ES256 with a JWKS key by kid")
        expect(jwt.encode(claims(), pem_private(p256_key), "ES256"), 200, "ES256 without kid finds its key")
        expect(jwt.encode(claims(), oct_secret, "HS256", headers={"kid": "shared-1"}), 200, "HS256 with a JWKS oct key")

        # Rejections.
        header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        payload = b64url(json.dumps(claims()).encode())
        expect(f"{header}.{payload}.", 401, "alg none")
        confused = jwt.api_jws.PyJWS()
        confused._algorithms["HS256"].prepare_key = lambda key: key  # sign with the public PEM as an HMAC secret
        forged = confused.encode(json.dumps(claims()).encode(), pem_public(rsa_pem_key), "HS256")
        expect(forged, 401, "HS256 signed with the RSA public key (algorithm confusion)")
        expect(jwt.encode(claims(), pem_private(p256_key), "ES256", headers={"kid": "rsa-old"}), 401,
               "ES256 naming an RSA key's kid")
        expect(jwt.encode(claims(), pem_private(rsa_small), "RS256", headers={"kid": "rsa-small"}), 401,
               "RS256 with a 1024-bit key")
        expect(jwt.encode(claims(), pem_private(rsa_old), "RS256", headers={"kid": "nobody"}), 401, "an unknown kid")
        expect(jwt.encode(claims(), pem_private(rsa_old), "PS256", headers={"kid": "rsa-old"}), 401, "an algorithm we do not accept (PS256)")
        good = jwt.encode(claims(), pem_private(rsa_old), "RS256", headers={"kid": "rsa-old"})
        head, body, signature = good.split(".")
        tampered_body = b64url(json.dumps(claims(role="admin")).encode())
        expect(f"{head}.{tampered_body}.{signature}", 401, "a tampered payload")
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
        expect(f"{head}.{body}.{flipped}", 401, "a tampered signature")
        expect(f"{head}.{body}.{signature}!", 401, "bad base64url")
        expect(f"{head}.{b64url(b'{not json')}.{signature}", 401, "a payload that is not JSON")
        expect(f"{b64url(b'[1]')}.{body}.{signature}", 401, "a header that is not an object")
        expect(jwt.encode(claims(aud="someone-else"), secret, "HS256"), 401, "the wrong audience")
        expect(jwt.encode(claims(iss="https://evil.example"), secret, "HS256"), 401, "the wrong issuer")
        expect(jwt.encode(claims(iss=None), secret, "HS256"), 401, "no issuer when one is required")
        expect(jwt.encode(claims(exp=int(time.time()) - 3600), secret, "HS256"), 401, "expired")
        expect(jwt.encode(claims(nbf=int(time.time()) + 3600), secret, "HS256"), 401, "not valid yet")
        expect(jwt.encode(claims(iat=int(time.time()) + 3600), secret, "HS256"), 401, "issued in the future")
        for missing in ("sub", "role", "org", "exp"):
            expect(jwt.encode(claims(**{missing: None}), secret, "HS256"), 401, f"no {missing}")
        expect(jwt.encode(claims(role="superuser"), secret, "HS256"), 401, "an unknown role")
        expect(jwt.encode(claims(padding="x" * 9000), secret, "HS256"), 401, "a token over 8 KiB")
        expect(jwt.encode(claims(), "another-secret", "HS256"), 401, "another secret")

        # Rotation: the JWKS gains a new key (both valid), then loses the old one.
        old_token = jwt.encode(claims(), pem_private(rsa_old), "RS256", headers={"kid": "rsa-old"})
        new_token = jwt.encode(claims(), pem_private(rsa_new), "RS512", headers={"kid": "rsa-new"})
        expect(old_token, 200, "rotation: the old key before")
        expect(new_token, 401, "rotation: the new key is unknown before")
        write_jwks([jwk(rsa_old, "rsa-old"), jwk(rsa_new, "rsa-new"), jwk(p256_key, "ec-1")])

        def wait_for(token, code):
            deadline = time.time() + 15
            while time.time() < deadline:
                if status(token)[0] == code:
                    return True
                time.sleep(0.2)
            return False
        check(wait_for(new_token, 200), "rotation: the new key is accepted after the JWKS file changes")
        expect(old_token, 200, "rotation: the old key still works during the overlap")
        write_jwks([jwk(rsa_new, "rsa-new"), jwk(p256_key, "ec-1")])
        check(wait_for(old_token, 401), "rotation: the old key (and its cached verdict) is refused once removed")
        expect(new_token, 200, "rotation: the new key after the old one is gone")
        with open(jwks_path, "w") as handle:
            handle.write("{broken")
        time.sleep(2.5)
        expect(new_token, 200, "a JWKS file that does not load keeps the previous keys")
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)

    # Nothing secret reaches the log.
    leaked = [name for name, value in (("the HMAC secret", secret), ("a token", old_token), ("a token", new_token))
              if value in errors]
    check(not leaked, f"the log holds no secret or token ({leaked or 'none'})")
    check("reloaded the JWKS file" in errors and "keeping the previous keys" in errors,
          "reloads and a failed reload are logged")

    print(f"{len(passes)} passed, {len(failures)} failed")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
