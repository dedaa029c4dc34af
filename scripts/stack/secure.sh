# shellcheck shell=bash
# Secured local stack (STACK_SECURE=1), sourced by stack.sh: the same three servers, locked
# down the way a managed deployment is, so the services' security settings are proven
# against real servers rather than described.
#
#   Kafka          SASL_SSL only, over TLS: SCRAM-SHA-512 with users `admin` (the broker
#                  itself) and `rag` (the services), created when the storage is formatted, or
#                  OAUTHBEARER with a JWT (RS256) that the listener verifies against the JWKS of
#                  the stack's issuer (scripts/stack/oauth-issuer.cjs; subject `rag`, audience
#                  `kafka`, issuer `rag-stack`; a fresh token in secrets/kafka-oauth-token). ACLs: `rag`
#                  may use topics prefixed STACK_SECURE_TOPIC_PREFIX [ingest.] and consumer
#                  groups prefixed `rag-`, nothing else (scripts/stack/kafka-acls.cjs).
#   registry       Apicurio on an internal loopback port, behind nginx: TLS and HTTP basic
#                  auth (user `rag`) on STACK_REGISTRY_PORT.
#   Elasticsearch  x-pack security with TLS on HTTP; file-realm users `rag-admin` (superuser)
#                  and `rag` (the services) with the file-defined role `rag_services`:
#                  cluster monitor and index templates, everything on `rag-*` indices, nothing
#                  else. Not an API key: this distribution cannot issue one (its .security
#                  index mapping needs the analysis-common module it lacks), so the services'
#                  API key setting is covered by unit tests, not by this stack.
#
# Everything secret lives in $STACK_DIR/secrets (mode 700): a private CA, one server
# certificate for 127.0.0.1/localhost, the passwords, and stack.env, the connection
# settings a service needs (KAFKA_*, SCHEMA_REGISTRY_*, ELASTICSEARCH_*) to source.

SECURE="${STACK_SECURE:-0}"
SECRETS="$STACK_DIR/secrets"
REGISTRY_INTERNAL_PORT="${STACK_REGISTRY_INTERNAL_PORT:-$((REGISTRY_PORT + 1000))}"

secure() { [[ "$SECURE" == 1 ]]; }

# A secret kept in secrets/<name>, made once (48 hex characters).
secret() {
  local f="$SECRETS/$1"
  [[ -s "$f" ]] || (umask 077 && openssl rand -hex 24 >"$f")
  cat "$f"
}

# The CA and the server certificate (SAN 127.0.0.1 and localhost), made once, PEM, with an
# unencrypted PKCS#8 key (Kafka's PEM key store, Elasticsearch and nginx all read that).
ensure_certificates() {
  command -v openssl >/dev/null 2>&1 || die "STACK_SECURE=1 needs openssl"
  mkdir -p "$SECRETS" && chmod 700 "$SECRETS"
  [[ -s "$SECRETS/server.pem" ]] && return 0
  (
    umask 077
    cd "$SECRETS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=rag-stack local CA" \
      -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
      -extfile server.ext -out server.pem 2>/dev/null
    cat server.key server.pem >kafka-keystore.pem
    rm -f server.csr server.ext ca.srl
  ) || die "could not create the stack's certificates in $SECRETS"
  log "secure: made a private CA and a server certificate in $SECRETS"
}

# The OAuth issuer's key and JWKS (made once) and a token for the services (a fresh one per start).
ensure_oauth_issuer() {
  node "$SCRIPT_DIR/oauth-issuer.cjs" keys "$SECRETS" || die "secure: could not make the OAuth issuer's key"
  (umask 077 && node "$SCRIPT_DIR/oauth-issuer.cjs" token "$SECRETS" rag >"$SECRETS/kafka-oauth-token") ||
    die "secure: could not issue the services' OAuth token"
}

# JVM options of a secured broker: Kafka reads a JWKS only from URLs it is told to allow.
kafka_secure_jvm_opts() {
  echo "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=file://$SECRETS/oauth-jwks.json"
}

# The JAAS line and the SCRAM users for Kafka (format-time: `StorageTool format --add-scram`).
kafka_scram_users() {
  printf '%s\n' --add-scram "SCRAM-SHA-512=[name=admin,password=$(secret kafka-admin-password)]" \
    --add-scram "SCRAM-SHA-512=[name=rag,password=$(secret kafka-rag-password)]"
}

write_kafka_secure_listeners() { # <port> <controller port>: the secured lines of server.properties
  cat <<EOF
listeners=SASL_SSL://127.0.0.1:$1,CONTROLLER://127.0.0.1:$2
advertised.listeners=SASL_SSL://127.0.0.1:$1
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
# The controller listener takes mutual TLS: the node's own certificate (CN=127.0.0.1) is the only
# client it accepts (SCRAM cannot guard it: its users live in the metadata the controller serves).
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL
listener.name.controller.ssl.client.auth=required
sasl.enabled.mechanisms=SCRAM-SHA-512,OAUTHBEARER
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(secret kafka-admin-password)";
# OAUTHBEARER: signed JWTs of the stack's issuer only (signature, expiry, audience, issuer);
# the principal is the token's subject, so the same ACLs apply as for the SCRAM user.
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler
sasl.oauthbearer.jwks.endpoint.url=file://$SECRETS/oauth-jwks.json
sasl.oauthbearer.expected.audience=kafka
sasl.oauthbearer.expected.issuer=rag-stack
ssl.keystore.type=PEM
ssl.keystore.location=$SECRETS/kafka-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$SECRETS/ca.pem
ssl.client.auth=none
# Authorization: nothing is allowed without an ACL; the broker and its controller are super users.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:CN=127.0.0.1
EOF
}

# The services' ACLs, created as `admin` once the broker is healthy (idempotent).
ensure_kafka_acls() {
  KAFKA_ACL_BROKERS="$(kafka_bootstrap)" KAFKA_ACL_ADMIN_PASSWORD="$(secret kafka-admin-password)" \
    KAFKA_ACL_CA_FILE="$SECRETS/ca.pem" KAFKA_ACL_TOPIC_PREFIX="${STACK_SECURE_TOPIC_PREFIX:-ingest.}" \
    node "$SCRIPT_DIR/kafka-acls.cjs" || die "kafka: could not create the services' ACLs"
}

# nginx in front of Apicurio: TLS and basic auth; Apicurio itself listens on an internal port.
write_registry_proxy_config() {
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
  [[ -x "$NGINX" ]] || die "STACK_SECURE=1 needs nginx for the registry (Debian: apt-get install nginx-light)"
  local dir="$CONF/registry-tls"
  mkdir -p "$dir" "$TMP/registry-tls"
  (umask 077 && printf 'rag:%s\n' "$(openssl passwd -apr1 "$(secret registry-password)")" >"$dir/htpasswd")
  cat >"$dir/nginx.conf" <<EOF
# Generated by scripts/stack/secure.sh on every start.
daemon off;
worker_processes 1;
pid $RUN/registry-tls.nginx.pid;
error_log $LOGS/registry-tls.log warn;
$([[ "$(id -u)" == 0 ]] && echo 'user root;')
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $TMP/registry-tls/body;
  proxy_temp_path $TMP/registry-tls/proxy;
  fastcgi_temp_path $TMP/registry-tls/fastcgi;
  uwsgi_temp_path $TMP/registry-tls/uwsgi;
  scgi_temp_path $TMP/registry-tls/scgi;
  server {
    listen 127.0.0.1:$REGISTRY_PORT ssl;
    ssl_certificate $SECRETS/server.pem;
    ssl_certificate_key $SECRETS/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    auth_basic "schema registry";
    auth_basic_user_file $dir/htpasswd;
    location / {
      proxy_pass http://127.0.0.1:$REGISTRY_INTERNAL_PORT;
      proxy_set_header Authorization "";
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
}

start_registry_tls() {
  write_registry_proxy_config
  launch_detached "$(pid_file registry-tls)" "$LOGS/registry-tls.stdout.log" \
    "$NGINX" -c "$CONF/registry-tls/nginx.conf"
}

# Elasticsearch security settings appended to elasticsearch.yml; certificates are copied into
# the config directory (Elasticsearch reads key material only from there).
write_es_secure_config() {
  mkdir -p "$CONF/es/certs"
  cp "$SECRETS/server.pem" "$SECRETS/server.key" "$SECRETS/ca.pem" "$CONF/es/certs/"
  cat <<EOF
xpack.security.enabled: true
xpack.security.http.ssl.enabled: true
xpack.security.http.ssl.certificate: certs/server.pem
xpack.security.http.ssl.key: certs/server.key
xpack.security.http.ssl.certificate_authorities: [certs/ca.pem]
EOF
}

# The file-realm users and the services' role, before each secured start (the users tool
# writes conf/es/users and users_roles; roles.yml is read by the node and reloaded on change).
ensure_es_users() {
  local wrapper=("$@") entry user role password
  cat >"$CONF/es/roles.yml" <<'EOF'
# Generated by scripts/stack/secure.sh: what the pipeline's services may do, and no more.
rag_services:
  cluster: [monitor, manage_index_templates]
  indices:
    - names: ["rag-*"]
      privileges: [all]
EOF
  touch "$CONF/es/users" "$CONF/es/users_roles" # the tool edits these files, it does not make them
  for entry in rag-admin:superuser:es-admin-password rag:rag_services:es-rag-password; do
    IFS=: read -r user role password <<<"$entry"
    grep -q "^$user:" "$CONF/es/users" && continue
    ES_PATH_CONF="$CONF/es" ES_JAVA_HOME="$JAVA_HOME_RESOLVED" JAVA_HOME="" "${wrapper[@]}" \
      "$ES_HOME/bin/elasticsearch-users" useradd "$user" -p "$(secret "$password")" -r "$role" \
      >>"$LOGS/es.stdout.log" 2>&1 || die "es: could not create the user $user, see $LOGS/es.stdout.log"
  done
}

es_curl() { # es_curl <path> [curl args...]: as rag-admin over TLS
  local path="$1"
  shift
  curl -sf --max-time 10 --cacert "$SECRETS/ca.pem" -u "rag-admin:$(secret es-admin-password)" "$@" \
    "https://127.0.0.1:$ES_PORT$path"
}

# secrets/stack.env: what a service (or a test) needs to connect to this stack.
write_stack_env() {
  (
    umask 077
    cat >"$SECRETS/stack.env" <<EOF
# Generated by scripts/stack/stack.sh (STACK_SECURE=1): connection settings for the services.
KAFKA_BROKERS=$(kafka_bootstrap)
KAFKA_SECURITY_PROTOCOL=SASL_SSL
KAFKA_SASL_MECHANISM=scram-sha-512
KAFKA_SASL_USERNAME=rag
KAFKA_SASL_PASSWORD=$(secret kafka-rag-password)
KAFKA_SSL_CA_FILE=$SECRETS/ca.pem
# With KAFKA_SASL_MECHANISM=oauthbearer instead: the token file, re-read at each authentication.
KAFKA_SASL_OAUTHBEARER_TOKEN_FILE=$SECRETS/kafka-oauth-token
SCHEMA_REGISTRY_URL=https://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7
SCHEMA_REGISTRY_USERNAME=rag
SCHEMA_REGISTRY_PASSWORD=$(secret registry-password)
SCHEMA_REGISTRY_CA_FILE=$SECRETS/ca.pem
ELASTICSEARCH_URL=https://127.0.0.1:$ES_PORT
ELASTICSEARCH_USERNAME=rag
ELASTICSEARCH_PASSWORD=$(secret es-rag-password)
ELASTICSEARCH_CA_FILE=$SECRETS/ca.pem
EOF
  )
}
