<?php
// Debian's wp-config.php reads this file: every instance takes its database and its URL from its
// environment, which the pool sets (the names are mapped in examples/wordpress/app.json).
define('DB_NAME', getenv('WORDPRESS_DB_NAME'));
define('DB_USER', getenv('WORDPRESS_DB_USER'));
define('DB_PASSWORD', getenv('WORDPRESS_DB_PASSWORD'));
define('DB_HOST', getenv('WORDPRESS_DB_HOST'));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
$tryit_url = getenv('TRYIT_URL') ?: getenv('WORDPRESS_URL');
define('WP_HOME', $tryit_url);
define('WP_SITEURL', $tryit_url);
// Keys and salts of this instance's own, derived from its database password (a secret per instance).
$tryit_salt = hash('sha256', 'wordpress-salts:' . getenv('WORDPRESS_DB_PASSWORD'));
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $i => $name) {
    define($name, hash('sha256', $tryit_salt . $i));
}
// A demo reaches no outside server (its egress is none), changes no code and schedules nothing.
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('DISALLOW_FILE_MODS', true);
define('WP_CONTENT_DIR', '/var/lib/wordpress/wp-content');
