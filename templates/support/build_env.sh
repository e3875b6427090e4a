# Sourced by build steps. Behind a TLS-intercepting proxy venvoy copies the host's CA
# bundle here (from SSL_CERT_FILE, PIP_CERT or REQUESTS_CA_BUNDLE); trust it while building.
if [ -s /opt/venvoy/lib/ca-bundle.crt ]; then
  PIP_CERT=/opt/venvoy/lib/ca-bundle.crt
  SSL_CERT_FILE=/opt/venvoy/lib/ca-bundle.crt
  REQUESTS_CA_BUNDLE=/opt/venvoy/lib/ca-bundle.crt
  CURL_CA_BUNDLE=/opt/venvoy/lib/ca-bundle.crt
  export PIP_CERT SSL_CERT_FILE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE
fi
