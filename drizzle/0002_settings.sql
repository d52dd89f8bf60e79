CREATE TABLE `settings` (
	`name` varchar(64) NOT NULL,
	`value` json,
	`updated_at` timestamp(3) NOT NULL DEFAULT (now()),
	CONSTRAINT `settings_name` PRIMARY KEY(`name`)
);
