CREATE TABLE `api_keys` (
	`id` varchar(40) NOT NULL,
	`name` varchar(200) NOT NULL,
	`kind` varchar(16) NOT NULL,
	`prefix` varchar(24) NOT NULL,
	`hash` varchar(64) NOT NULL,
	`scopes` json NOT NULL,
	`apps` json,
	`allowed_origins` json NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT (now()),
	`revoked_at` timestamp(3),
	`last_used_at` timestamp(3),
	CONSTRAINT `api_keys_id` PRIMARY KEY(`id`),
	CONSTRAINT `api_keys_hash_idx` UNIQUE(`hash`)
);
--> statement-breakpoint
CREATE INDEX `api_keys_revoked_at_idx` ON `api_keys` (`revoked_at`);