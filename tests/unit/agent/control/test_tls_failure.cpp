#include <catch2/catch.hpp>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "agent/control/tls_failure.hpp"

using namespace galeratop;

TEST_CASE("a failed certificate check is classified by the verification result") {
  CHECK(classify_tls_failure(SSL_R_CERTIFICATE_VERIFY_FAILED, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, false) ==
        tls_failure::untrusted);
  CHECK(classify_tls_failure(SSL_R_CERTIFICATE_VERIFY_FAILED, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, false) ==
        tls_failure::untrusted);
  CHECK(classify_tls_failure(SSL_R_CERTIFICATE_VERIFY_FAILED, X509_V_ERR_CERT_HAS_EXPIRED, false) ==
        tls_failure::expired);
  CHECK(classify_tls_failure(SSL_R_CERTIFICATE_VERIFY_FAILED, X509_V_ERR_CERT_NOT_YET_VALID, false) ==
        tls_failure::not_yet_valid);
  CHECK(classify_tls_failure(SSL_R_CERTIFICATE_VERIFY_FAILED, X509_V_ERR_IP_ADDRESS_MISMATCH, false) ==
        tls_failure::wrong_host);
  CHECK(classify_tls_failure(SSL_R_CERTIFICATE_VERIFY_FAILED, X509_V_ERR_HOSTNAME_MISMATCH, false) ==
        tls_failure::wrong_host);
}

TEST_CASE("bytes that are not a TLS record mean a plain-text peer") {
  CHECK(classify_tls_failure(SSL_R_WRONG_VERSION_NUMBER, X509_V_OK, false) == tls_failure::not_tls);
  CHECK(classify_tls_failure(SSL_R_HTTP_REQUEST, X509_V_OK, false) == tls_failure::not_tls);
  CHECK(classify_tls_failure(SSL_R_PACKET_LENGTH_TOO_LONG, X509_V_OK, false) == tls_failure::not_tls);
}

TEST_CASE("a close during the handshake and other failures keep OpenSSL's words") {
  CHECK(classify_tls_failure(0, X509_V_OK, true) == tls_failure::closed);
  CHECK(classify_tls_failure(SSL_R_NO_SHARED_CIPHER, X509_V_OK, false) == tls_failure::other);
  CHECK(tls_failure_message("127.0.0.1:9999", tls_failure::other, "no shared cipher", true) ==
        "127.0.0.1:9999: TLS handshake failed: no shared cipher");
}

TEST_CASE("the client's message names the target, OpenSSL's reason and what to check") {
  CHECK(tls_failure_message("127.0.0.1:9999", tls_failure::untrusted, "unable to get local issuer certificate", true) ==
        "127.0.0.1:9999: certificate verify failed: unable to get local issuer certificate (is --ca-file the CA "
        "that signed the agent's certificate?)");
  CHECK(tls_failure_message("h:1", tls_failure::untrusted, "x", false).find("give --ca-file") != std::string::npos);
  CHECK(tls_failure_message("h:1", tls_failure::expired, "certificate has expired", true) ==
        "h:1: certificate verify failed: certificate has expired (renew the agent's agent.control_tls_cert)");
  CHECK(tls_failure_message("h:1", tls_failure::not_tls, "wrong version number", true)
            .starts_with("h:1: the agent does not speak TLS (plain control endpoint?"));
  CHECK(tls_failure_message("h:1", tls_failure::wrong_host, "IP address mismatch", true).find("does not name") !=
        std::string::npos);
}
