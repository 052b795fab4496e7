"""Test certificates made at test time with Debian's openssl CLI: a CA, a server certificate
for 127.0.0.1 / localhost (subjectAltName) and a client certificate signed by it, and an
unrelated CA that trusts none of them."""
import os
import subprocess

CA_CNF = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = %s
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""

LEAF_CNF = """[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = %s
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
%s
"""


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def key(path):
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    return path


def ca(d, name):
    cnf = os.path.join(d, name + ".cnf")
    with open(cnf, "w") as f:
        f.write(CA_CNF % name)
    k = key(os.path.join(d, name + ".key"))
    pem = os.path.join(d, name + ".pem")
    openssl("req", "-x509", "-new", "-key", k, "-config", cnf, "-extensions", "ca", "-days", "2", "-out", pem)
    return pem, k


def leaf(d, name, ca_pem, ca_key, usage, san=""):
    k = key(os.path.join(d, name + ".key"))
    csr = os.path.join(d, name + ".csr")
    openssl("req", "-new", "-key", k, "-subj", "/CN=" + name, "-out", csr)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write(LEAF_CNF % (usage, "subjectAltName = " + san if san else ""))
    pem = os.path.join(d, name + ".pem")
    openssl("x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
            "-extfile", ext, "-extensions", "leaf", "-out", pem)
    return pem, k


def make(d):
    """{"ca", "server", "server_key", "client", "client_key", "other_ca"}: paths under d."""
    ca_pem, ca_key = ca(d, "test-ca")
    server, server_key = leaf(d, "server", ca_pem, ca_key, "serverAuth", "IP:127.0.0.1,DNS:localhost")
    client, client_key = leaf(d, "client", ca_pem, ca_key, "clientAuth")
    other_ca, _ = ca(d, "other-ca")
    return {"ca": ca_pem, "server": server, "server_key": server_key, "client": client,
            "client_key": client_key, "other_ca": other_ca}
