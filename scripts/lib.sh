#!/usr/bin/env bash
# Shared set-up steps of `npm start`, `npm run up`, `npm test` and `npm run bench` (README, "Commands").
# Each step prints what it does; each service is started only when nothing answers on its address,
# with its data under .data/, and recorded in .data/run/ so `npm run down` stops only what we started.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA="$ROOT/.data"
RUN="$DATA/run"
LOGS="$DATA/logs"
mkdir -p "$RUN" "$LOGS"
STARTED_NOW=()

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
fail() { printf '\033[31mxx  %s\033[0m\n' "$*" >&2; exit 1; }
warn() { printf '\033[33m!!  %s\033[0m\n' "$*" >&2; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND until it succeeds or the deadline passes.
wait_for() {
  local what="$1" seconds="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what did not come up within ${seconds}s (logs: $LOGS)"
    sleep 0.2
  done
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# ---------------------------------------------------------------- packages
ensure_packages() {
  local want=("$@") missing=() pkg
  for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then info "packages present: ${want[*]}"; return; fi
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    fail "missing packages: ${missing[*]} — install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}) and run again"
  fi
  step "installing ${missing[*]} (apt-get)"
  apt-get update -qq >"$LOGS/apt.log" 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1 \
    || fail "apt-get install ${missing[*]} failed (see $LOGS/apt.log)"
}

ensure_node_modules() {
  if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] && [ node_modules/.package-lock.json -nt package.json ]; then
    info "node modules up to date"; return
  fi
  step "installing node modules (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
}

load_env() {
  eval "$(node_modules/.bin/tsx scripts/env.ts)"
}

# ---------------------------------------------------------------- services
mark_started() { echo "$2" >"$RUN/$1.pid"; STARTED_NOW+=("$1"); }

# Instances outlive a restart of the daemon (ARCHITECTURE.md, "Restarts"): --live-restore keeps the
# containers running while dockerd is away, and without the userland proxy (which dies with the
# daemon) their published ports keep answering through the kernel's forwarding rules.
DOCKERD_FLAGS=(--live-restore --userland-proxy=false)
start_docker() {
  if docker info >/dev/null 2>&1; then
    info "docker: already running"
    warn_if_docker_not_durable
    return
  fi
  step "starting dockerd (data in .data/docker; ${DOCKERD_FLAGS[*]})"
  mkdir -p "$DATA/docker"
  nohup dockerd --data-root "$DATA/docker" --pidfile "$RUN/dockerd.pid.internal" "${DOCKERD_FLAGS[@]}" >>"$LOGS/dockerd.log" 2>&1 &
  mark_started dockerd $!
  wait_for dockerd 60 docker info
}

# A daemon started elsewhere (the distribution's unit, say) may lack those settings: say so, loudly.
warn_if_docker_not_durable() {
  if [ "$(docker info --format '{{.LiveRestoreEnabled}}' 2>/dev/null)" != "true" ]; then
    warn "dockerd runs without live-restore: restarting it ends every running demo (add \"live-restore\": true to /etc/docker/daemon.json, or let these scripts start dockerd)"
  fi
  if ! pgrep -a dockerd 2>/dev/null | grep -q -- "--userland-proxy=false" && ! grep -qs '"userland-proxy": *false' /etc/docker/daemon.json; then
    warn "dockerd runs with its userland proxy: while the daemon restarts, demos' ports stop answering (add \"userland-proxy\": false to /etc/docker/daemon.json)"
  fi
}

# Redis keeps the pool's records across its own restart: an append-only file under .data/redis,
# written every second (ARCHITECTURE.md, "Restarts": at most the last second is lost).
start_redis() {
  if redis-cli -h "$TIN_REDIS_HOST" -p "$TIN_REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    info "redis: already running on $TIN_REDIS_HOST:$TIN_REDIS_PORT"
    if [ "$(redis-cli -h "$TIN_REDIS_HOST" -p "$TIN_REDIS_PORT" config get appendonly 2>/dev/null | tail -1)" != "yes" ]; then
      warn "redis at $TIN_REDIS_HOST:$TIN_REDIS_PORT runs without appendonly: restarting it ends every running demo (set appendonly yes and appendfsync everysec, or let these scripts start it)"
    fi
    return
  fi
  step "starting redis-server on $TIN_REDIS_HOST:$TIN_REDIS_PORT (append-only file in .data/redis, fsync every second)"
  mkdir -p "$DATA/redis"
  redis-server --bind "$TIN_REDIS_HOST" --port "$TIN_REDIS_PORT" --dir "$DATA/redis" --save "" \
    --appendonly yes --appendfsync everysec \
    --daemonize yes --pidfile "$RUN/redis-server.pid" --logfile "$LOGS/redis.log"
  wait_for redis 20 bash -c "redis-cli -h $TIN_REDIS_HOST -p $TIN_REDIS_PORT ping | grep -q PONG"
  STARTED_NOW+=(redis-server)
}

MARIADB_SOCKET="$RUN/mysqld.sock"
mariadb_root() {
  if [ -S "$MARIADB_SOCKET" ]; then mariadb --protocol=socket --socket="$MARIADB_SOCKET" -uroot "$@"; else mariadb -uroot "$@"; fi
}

start_mariadb() {
  if tcp_open "$TIN_DB_HOST" "$TIN_DB_PORT"; then
    info "mariadb: already running on $TIN_DB_HOST:$TIN_DB_PORT"
  else
    step "starting mariadb on $TIN_DB_HOST:$TIN_DB_PORT"
    if [ ! -d "$DATA/mariadb/mysql" ]; then
      info "initialising data directory .data/mariadb"
      mariadb-install-db --user=root --datadir="$DATA/mariadb" --auth-root-authentication-method=socket \
        --skip-test-db >"$LOGS/mariadb-install.log" 2>&1 || fail "mariadb-install-db failed (see $LOGS/mariadb-install.log)"
    fi
    nohup mariadbd --user=root --datadir="$DATA/mariadb" --socket="$MARIADB_SOCKET" --port="$TIN_DB_PORT" \
      --bind-address="$TIN_DB_HOST" --pid-file="$RUN/mariadbd.pid.internal" --log-error="$LOGS/mariadb.log" \
      --skip-name-resolve >/dev/null 2>&1 &
    mark_started mariadbd $!
    wait_for mariadb 60 mariadb-admin --protocol=socket --socket="$MARIADB_SOCKET" -uroot ping
  fi
  ensure_database "$TIN_DB_NAME"
}

# ensure_database NAME: the database and the project's own user (Debian's root authenticates by socket only).
# start_demo_db: the demo database server (ARCHITECTURE.md, "Demo databases"): a MariaDB of its own for
# the instances' databases, never the product's, listening only on the host's address on Docker's bridge
# docker0 (DEMO_DB_HOST to choose another) at DEMO_DB_PORT, where instances of apps with a database reach
# it; the worker administers it through its socket (DEMO_DB_SOCKET). With DEMO_DB_URL it runs elsewhere.
start_demo_db() {
  if [ -n "$TIN_DEMO_DB_URL" ]; then info "demo databases: on the server of DEMO_DB_URL"; return; fi
  if [ -z "$TIN_DEMO_DB_SOCKET" ]; then info "demo databases: none (DEMO_DB_SOCKET is empty)"; return; fi
  local address="$TIN_DEMO_DB_HOST"
  [ -n "$address" ] || address="$(ip -4 -o addr show docker0 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)"
  [ -n "$address" ] || fail "no address for the demo database server: docker0 has none; set DEMO_DB_HOST"
  if mariadb-admin --protocol=socket --socket="$TIN_DEMO_DB_SOCKET" -uroot ping >/dev/null 2>&1; then
    info "demo database server: already running on $address:$TIN_DEMO_DB_PORT"; return
  fi
  step "starting the demo database server on $address:$TIN_DEMO_DB_PORT"
  if [ ! -d "$DATA/demo-db/mysql" ]; then
    info "initialising data directory .data/demo-db"
    mariadb-install-db --user=root --datadir="$DATA/demo-db" --auth-root-authentication-method=socket \
      --skip-test-db >"$LOGS/demo-db-install.log" 2>&1 || fail "mariadb-install-db failed (see $LOGS/demo-db-install.log)"
  fi
  mkdir -p "$DATA/demo-db-files" "$(dirname "$TIN_DEMO_DB_SOCKET")"
  # No file access (secure-file-priv: an empty folder), no LOAD DATA LOCAL, no name lookups; a demo's
  # last second of writes may be lost if the host itself crashes (flush once a second), never on a
  # restart of the server.
  nohup mariadbd --user=root --datadir="$DATA/demo-db" --socket="$TIN_DEMO_DB_SOCKET" --port="$TIN_DEMO_DB_PORT" \
    --bind-address="$address" --pid-file="$RUN/demo-db.pid.internal" --log-error="$LOGS/demo-db.log" \
    --skip-name-resolve --local-infile=0 --secure-file-priv="$DATA/demo-db-files" --max-connections=1000 \
    --innodb-flush-log-at-trx-commit=2 --innodb-buffer-pool-size=128M --skip-log-bin >/dev/null 2>&1 &
  mark_started demo-db $!
  wait_for "demo database server" 60 mariadb-admin --protocol=socket --socket="$TIN_DEMO_DB_SOCKET" -uroot ping
}

# purge_demo_databases: this deployment's instance databases and users (names <prefix>_d_…) and templates.
purge_demo_databases() {
  [ -z "$TIN_DEMO_DB_URL" ] && [ -S "$TIN_DEMO_DB_SOCKET" ] || return 0
  mariadb-admin --protocol=socket --socket="$TIN_DEMO_DB_SOCKET" -uroot ping >/dev/null 2>&1 || return 0
  local demo=(mariadb --protocol=socket --socket="$TIN_DEMO_DB_SOCKET" -uroot -N -B)
  local like="${TIN_DEMO_DB_PREFIX}\\_%" name count=0
  while read -r name; do
    [ -n "$name" ] || continue
    "${demo[@]}" -e "DROP DATABASE IF EXISTS \`$name\`"; count=$((count + 1))
  done < <("${demo[@]}" -e "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '$like'")
  while read -r name; do
    [ -n "$name" ] || continue
    "${demo[@]}" -e "DROP USER IF EXISTS '$name'@'%'"
  done < <("${demo[@]}" -e "SELECT User FROM mysql.user WHERE User LIKE '$like'")
  info "removed $count demo database(s) of this deployment"
}

ensure_database() {
  local name="$1"
  if mysql_user_can_connect "$name"; then return; fi
  info "creating database $name and user $TIN_DB_USER"
  mariadb_root <<SQL || fail "could not create database $name — create it and user $TIN_DB_USER yourself, or set DATABASE_URL"
CREATE DATABASE IF NOT EXISTS \`$name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$TIN_DB_USER'@'localhost' IDENTIFIED BY '$TIN_DB_PASSWORD';
CREATE USER IF NOT EXISTS '$TIN_DB_USER'@'127.0.0.1' IDENTIFIED BY '$TIN_DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$name\`.* TO '$TIN_DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`$name\`.* TO '$TIN_DB_USER'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
}

mysql_user_can_connect() {
  mariadb --protocol=tcp -h "$TIN_DB_HOST" -P "$TIN_DB_PORT" -u"$TIN_DB_USER" -p"$TIN_DB_PASSWORD" -e "select 1" "$1" >/dev/null 2>&1
}

start_nats() {
  if tcp_open "$TIN_NATS_HOST" "$TIN_NATS_PORT"; then info "nats: already running on $TIN_NATS_HOST:$TIN_NATS_PORT"; return; fi
  step "starting nats-server (JetStream) on $TIN_NATS_HOST:$TIN_NATS_PORT"
  mkdir -p "$DATA/nats"
  nohup nats-server -a "$TIN_NATS_HOST" -p "$TIN_NATS_PORT" -js -sd "$DATA/nats" -l "$LOGS/nats.log" >/dev/null 2>&1 &
  mark_started nats-server $!
  wait_for nats 20 tcp_open "$TIN_NATS_HOST" "$TIN_NATS_PORT"
}

# start_caddy ADMIN_HOST:PORT NAME: Caddy with only its admin API on loopback; the worker loads the server.
# GOMEMLIMIT (PROXY_MEMORY_LIMIT, default 64MiB): Go's runtime keeps the memory it freed after every config
# reload's garbage until it nears this, so Caddy's resident memory rose for as long as a soak ran
# while its live heap stayed flat (ARCHITECTURE.md, "Supervision").
start_caddy() {
  local admin="$1" name="${2:-caddy}"
  if curl -fsS -m 2 "http://$admin/config/" >/dev/null 2>&1; then info "$name: already running (admin $admin)"; return; fi
  step "starting $name (admin API on $admin)"
  mkdir -p "$DATA/$name"
  printf '{"admin":{"listen":"%s"}}\n' "$admin" >"$DATA/$name/bootstrap.json"
  GOMEMLIMIT="${TIN_PROXY_MEMORY_LIMIT:-64MiB}" XDG_DATA_HOME="$DATA/$name" XDG_CONFIG_HOME="$DATA/$name" \
    nohup caddy run --config "$DATA/$name/bootstrap.json" \
    >>"$LOGS/$name.log" 2>&1 &
  mark_started "$name" $!
  wait_for "$name" 20 curl -fsS -m 2 "http://$admin/config/"
}

# Caddy opens a new listening socket (SO_REUSEPORT) on every config change, i.e. on every instance
# route, and closes the old one: connections queued on it would be reset. With tcp_migrate_req the
# kernel hands them to the new socket. The old value is kept so `npm run down` (or the end of the run
# that set it) can put it back.
MIGRATE_REQ=/proc/sys/net/ipv4/tcp_migrate_req
HANDOVER_SET_NOW=""
ensure_listener_handover() {
  [ -e "$MIGRATE_REQ" ] || { info "kernel without net.ipv4.tcp_migrate_req: Caddy reloads may reset queued connections"; return; }
  if [ "$(cat "$MIGRATE_REQ")" = "1" ]; then info "kernel: net.ipv4.tcp_migrate_req=1 (Caddy reloads drop no connection)"; return; fi
  step "kernel: net.ipv4.tcp_migrate_req=1, so Caddy's config reloads reset no queued connection"
  local before; before="$(cat "$MIGRATE_REQ")"
  if echo 1 >"$MIGRATE_REQ" 2>/dev/null; then
    echo "$before" >"$RUN/tcp_migrate_req.before"
    HANDOVER_SET_NOW=1
  else
    info "could not set it (not root?): Caddy reloads may reset queued connections; run: sysctl -w net.ipv4.tcp_migrate_req=1"
  fi
}

restore_listener_handover() {
  [ -f "$RUN/tcp_migrate_req.before" ] || return 0
  info "restoring net.ipv4.tcp_migrate_req=$(cat "$RUN/tcp_migrate_req.before")"
  cat "$RUN/tcp_migrate_req.before" >"$MIGRATE_REQ" 2>/dev/null || true
  rm -f "$RUN/tcp_migrate_req.before"
}

ensure_services() {
  ensure_listener_handover
  start_docker
  start_redis
  start_mariadb
  start_demo_db
  start_nats
}

# stop_service NAME [SECONDS]: stops a service we started (its pid file), waiting for it to exit
# (10 s unless told; the supervisor gets 20, as its processes get 15 before it kills them).
stop_service() {
  local name="$1" file="$RUN/$1.pid" pid tenths=$((${2:-10} * 10))
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    info "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 "$tenths"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
  if [ "$name" = dockerd ]; then release_docker_root; fi
}

# dockerd makes its data root a bind mount of itself and undoes it on a clean stop, but not after
# being killed (which the restart tests do): once no container runs any more (live-restore keeps
# them running without the daemon), a bind mount left over from such a kill is undone here.
release_docker_root() {
  mountpoint -q "$DATA/docker" 2>/dev/null || return 0
  pgrep -f containerd-shim >/dev/null 2>&1 && return 0
  umount "$DATA/docker" 2>/dev/null || true
}

# rcli ARGS…: redis-cli against the deployment's Redis (its password, when it has one, from the environment).
rcli() {
  if [ -n "${TIN_REDIS_PASSWORD:-}" ]; then REDISCLI_AUTH="$TIN_REDIS_PASSWORD" redis-cli -h "$TIN_REDIS_HOST" -p "$TIN_REDIS_PORT" "$@"
  else redis-cli -h "$TIN_REDIS_HOST" -p "$TIN_REDIS_PORT" "$@"; fi
}
redis_up() { rcli ping 2>/dev/null | grep -q PONG; }
instance_containers() { docker ps -aq --filter "label=tryitnow.deployment=$TIN_PREFIX"; }

# purge_instances: every instance of this deployment — containers, proxy routes, egress rules and
# Redis records (prefix TIN_PREFIX) — whatever runs (`npm run down -- --purge`). A stopped Docker
# daemon or Redis is started for it (live-restore kept the demos running without the daemon; the
# records are in Redis's append-only file) and stopped again by the caller, which stops every
# service this run started. What cannot be removed is named, and the purge fails.
purge_instances() {
  if ! docker info >/dev/null 2>&1; then
    info "dockerd is not running: starting it to find this deployment's containers (live-restore kept them running)"
    start_docker
  fi
  local ids; ids="$(instance_containers)"
  if [ -n "$ids" ]; then info "removing $(echo "$ids" | wc -l) instance container(s)"; echo "$ids" | xargs docker rm -f >/dev/null || true; fi
  # A proxy that runs on (started elsewhere) keeps routes until told: the instances' group is emptied.
  if curl -fsS -m 2 "$TIN_CADDY_ADMIN_URL/id/tin-instances" >/dev/null 2>&1; then
    info "removing the instances' proxy routes"
    curl -fsS -m 5 -X PATCH -H "Content-Type: application/json" -d '[]' "$TIN_CADDY_ADMIN_URL/id/tin-instances/routes" >/dev/null || true
  fi
  # The instances' egress rules go with them (ARCHITECTURE.md, "Egress"); a plain `down` keeps both.
  if command -v nft >/dev/null && nft list table inet "$TIN_EGRESS_TABLE" >/dev/null 2>&1; then
    info "removing the egress rules (nftables table $TIN_EGRESS_TABLE)"
    nft delete table inet "$TIN_EGRESS_TABLE"
  fi
  if ! redis_up; then
    info "redis is not running: starting it to remove this deployment's records"
    start_redis
  fi
  purge_demo_databases
  info "removing this deployment's records from Redis (prefix $TIN_PREFIX)"
  local batch
  while mapfile -t -n 500 batch && [ "${#batch[@]}" -gt 0 ]; do rcli del "${batch[@]}" >/dev/null || true; done < <(rcli --scan --pattern "${TIN_PREFIX}*")
  local left=() count
  count="$(instance_containers | wc -l)"; [ "$count" -eq 0 ] || left+=("$count container(s) labelled tryitnow.deployment=$TIN_PREFIX")
  count="$(rcli --scan --pattern "${TIN_PREFIX}*" | wc -l)"; [ "$count" -eq 0 ] || left+=("$count Redis key(s) ${TIN_PREFIX}*")
  if command -v nft >/dev/null && nft list table inet "$TIN_EGRESS_TABLE" >/dev/null 2>&1; then left+=("the nftables table $TIN_EGRESS_TABLE"); fi
  if [ "${#left[@]}" -gt 0 ]; then
    for service in caddy nats-server demo-db mariadbd redis-server dockerd; do stop_service "$service"; done
    fail "the purge left: ${left[*]}"
  fi
  info "nothing of this deployment is left"
}

# stop_processes: the supervisor (which stops its web and worker processes), then any of those left
# running by a supervisor that was killed (their pid files), and those of older versions (web, worker).
stop_processes() {
  stop_service supervisor 20
  local file
  for file in "$RUN"/web*.pid "$RUN"/worker*.pid; do
    [ -f "$file" ] && stop_service "$(basename "$file" .pid)"
  done
  return 0
}

stop_started_now() {
  local index
  for ((index = ${#STARTED_NOW[@]} - 1; index >= 0; index--)); do stop_service "${STARTED_NOW[$index]}"; done
  if [ -n "$HANDOVER_SET_NOW" ]; then restore_listener_handover; fi
}

# ---------------------------------------------------------------- project steps
migrate() {
  step "migrating database $TIN_DB_NAME"
  node .next/tin-migrate.mjs
}

# ensure_admin: a first start gets a dashboard admin (its password printed once and kept in
# .data/admin-password), or the one ADMIN_EMAIL / ADMIN_PASSWORD name.
ensure_admin() {
  step "dashboard users"
  node .next/tin-admin.mjs ensure
}

# build_image NAME TAG: builds examples/NAME locally (nothing is pulled); skipped when unchanged.
build_image() {
  local name="$1" image="$2"
  local context="$DATA/build/$name" stamp="$DATA/build/$name.stamp"
  # An image built FROM another sample (tryitnow/<base>) is stale when its base was rebuilt.
  local base; base="$(sed -n 's#^FROM tryitnow/\([a-z0-9-]*\).*#\1#p' "examples/$name/Dockerfile")"
  if docker image inspect "$image" >/dev/null 2>&1 && [ -f "$stamp" ] \
    && { [ -z "$base" ] || [ ! "$DATA/build/$base.stamp" -nt "$stamp" ]; } \
    && [ -z "$(find "examples/$name" -newer "$stamp" 2>/dev/null | head -1)" ]; then
    info "image $image is up to date"; return
  fi
  step "building image $image from examples/$name"
  rm -rf "$context" && mkdir -p "$context"
  cp -r "examples/$name/." "$context/"
  # The sample's only binary is Debian's static busybox (package busybox-static).
  if grep -q "COPY busybox" "$context/Dockerfile"; then cp /bin/busybox "$context/busybox"; fi
  docker build -q -t "$image" "$context" >/dev/null 2>"$LOGS/build-$name.log" || fail "docker build failed (see $LOGS/build-$name.log)"
  touch "$stamp"
}

# build_rootfs_image NAME TAG: a Debian 12 image made here from examples/NAME/packages: debootstrap
# (minbase) installs them into a folder from the package repository apt uses, and `docker import` makes
# the image (nothing is pulled). Skipped while the list is unchanged.
build_rootfs_image() {
  local name="$1" image="$2"
  local stamp="$DATA/build/$name.stamp" root="$DATA/build/$name-rootfs" packages want mirror
  packages="$(grep -v '^#' "examples/$name/packages" | xargs | tr ' ' ,)"
  want="bookworm minbase $packages"
  if docker image inspect "$image" >/dev/null 2>&1 && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    info "image $image is up to date"; return
  fi
  ensure_packages debootstrap
  mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
  [ -n "$mirror" ] || mirror="$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  step "building image $image: Debian 12 (debootstrap from $mirror) with $packages — about a minute"
  rm -rf "$root" && mkdir -p "$root" "$DATA/build"
  debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$LOGS/build-$name.log" 2>&1 \
    || { rm -rf "$root"; fail "debootstrap failed (see $LOGS/build-$name.log)"; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' - "$image" >/dev/null || { rm -rf "$root"; fail "docker import of $image failed"; }
  rm -rf "$root"
  echo "$want" >"$stamp"
}

# build_wordpress: the WordPress example's images (examples/wordpress-base, examples/wordpress).
build_wordpress() {
  build_rootfs_image wordpress-base tryitnow/wordpress-base:latest
  build_image wordpress tryitnow/wordpress:latest
}

build_next() {
  if [ -f .next/tin-server.mjs ] && [ -z "$(find app components lib embed public worker drizzle server.ts scripts/migrate.ts scripts/admin.ts next.config.ts package.json -newer .next/tin-server.mjs 2>/dev/null | head -1)" ]; then
    info "web build is up to date"; return
  fi
  step "building the web app and the bundles (next build; web, worker, migrate and admin bundles)"
  npm run --silent build >"$LOGS/next-build.log" 2>&1 || { tail -40 "$LOGS/next-build.log"; fail "build failed"; }
  info "built (log: $LOGS/next-build.log)"
}

# prepare: everything up to (not including) starting web and worker.
prepare() {
  step "checking system packages"
  ensure_packages docker.io caddy redis-server mariadb-server nats-server busybox-static curl file nftables "$@"
  ensure_node_modules
  load_env
  ensure_services
}

# prepare_stack: everything `npm start` and `npm run up` need before web and worker start.
prepare_stack() {
  prepare
  start_caddy "$TIN_CADDY_ADMIN" caddy
  # Everything runs from the build (.next/): the migrations and the admin step too.
  build_next
  migrate
  ensure_admin
  build_image hello tryitnow/hello:latest
  build_example_images
}

# build_example_images: the images of examples/ that an app of this deployment uses (npm run example
# made it): a fresh machine starts such an app too. The others are built only when asked for.
build_example_images() {
  local image name
  while read -r image; do
    name="${image#tryitnow/}"; name="${name%%:*}"
    case "$name" in
      hello) ;;
      wordpress) build_wordpress ;;
      *) if [ -f "examples/$name/Dockerfile" ]; then build_image "$name" "tryitnow/$name:latest"; fi ;;
    esac
  done < <(MYSQL_PWD="$TIN_DB_PASSWORD" mariadb --protocol=tcp -h "$TIN_DB_HOST" -P "$TIN_DB_PORT" -u"$TIN_DB_USER" -N -B \
    -e "SELECT DISTINCT image FROM apps WHERE image LIKE 'tryitnow/%'" "$TIN_DB_NAME" 2>/dev/null)
  return 0
}

# prepare_database SUFFIX: a database of its own (<name>_SUFFIX) for tests or benchmarks, migrated;
# its URL is exported as the variable named by the second argument.
prepare_database() {
  local name="${TIN_DB_NAME}_$1"
  ensure_database "$name"
  export "$2=mysql://$TIN_DB_USER:$TIN_DB_PASSWORD@$TIN_DB_HOST:$TIN_DB_PORT/$name"
  DATABASE_URL="${!2}" TIN_DB_NAME="$name" migrate
}

web_healthy() { curl -fsS -m 2 "http://127.0.0.1:$TIN_PORT/health" >/dev/null 2>&1; }
