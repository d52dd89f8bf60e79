#!/usr/bin/env bash
# Makes examples/wordpress/seed.sql: a WordPress site installed for real (its own installer, in the
# example image, against a scratch database on the demo database server), then dumped. The seed has a
# title, WordPress's sample post and page, and the user `admin`, whose password every instance replaces
# with its own (database_setup in app.json). Run: bash examples/wordpress/make-seed.sh
source "$(dirname "$0")/../../scripts/lib.sh"
prepare
trap 'docker rm -f tin-wp-seed >/dev/null 2>&1; demo -e "DROP DATABASE IF EXISTS tin_wp_seed; DROP USER IF EXISTS tin_wp_seed@\"%\""; stop_started_now' EXIT
build_wordpress
demo() { mariadb --protocol=socket --socket="$TIN_DEMO_DB_SOCKET" -uroot "$@"; }
address="${TIN_DEMO_DB_HOST:-$(ip -4 -o addr show docker0 | awk '{print $4}' | cut -d/ -f1 | head -1)}"
password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
step "installing WordPress into a scratch database"
demo -e "CREATE DATABASE tin_wp_seed CHARACTER SET utf8mb4; CREATE USER tin_wp_seed@'%' IDENTIFIED BY '$password';
  GRANT ALL PRIVILEGES ON tin_wp_seed.* TO tin_wp_seed@'%'"
docker run -d --name tin-wp-seed -p 127.0.0.1::8080 --read-only --tmpfs /run/apache2 --tmpfs /tmp \
  -e WORDPRESS_DB_HOST="$address:$TIN_DEMO_DB_PORT" -e WORDPRESS_DB_NAME=tin_wp_seed -e WORDPRESS_DB_USER=tin_wp_seed \
  -e WORDPRESS_DB_PASSWORD="$password" -e WORDPRESS_URL=http://wordpress-seed.localhost tryitnow/wordpress:latest >/dev/null
port="$(docker port tin-wp-seed 8080/tcp | head -1 | cut -d: -f2)"
wait_for wordpress 30 curl -fsS -m 5 -o /dev/null "http://127.0.0.1:$port/wp-admin/install.php"
curl -fsS -m 60 -o "$LOGS/wp-install.html" "http://127.0.0.1:$port/wp-admin/install.php?step=2" \
  --data-urlencode "weblog_title=Try It Now — WordPress demo" --data-urlencode "user_name=admin" \
  --data-urlencode "admin_password=$password" --data-urlencode "admin_password2=$password" --data-urlencode "pw_weak=1" \
  --data-urlencode "admin_email=admin@example.com" --data-urlencode "blog_public=0" --data-urlencode "language="
grep -q "Success" "$LOGS/wp-install.html" || fail "the WordPress installer did not succeed (see $LOGS/wp-install.html)"
step "dumping it to examples/wordpress/seed.sql"
mariadb-dump --protocol=socket --socket="$TIN_DEMO_DB_SOCKET" -uroot --skip-dump-date --skip-comments --single-transaction \
  tin_wp_seed >examples/wordpress/seed.sql
info "$(wc -c <examples/wordpress/seed.sql) bytes, $(grep -c '^CREATE TABLE' examples/wordpress/seed.sql) tables"
