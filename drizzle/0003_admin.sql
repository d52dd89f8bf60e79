CREATE TABLE `admin_users` (
	`id` varchar(40) NOT NULL,
	`email` varchar(254) NOT NULL,
	`name` varchar(200) NOT NULL,
	`role` varchar(16) NOT NULL,
	`password_hash` varchar(200) NOT NULL,
	`disabled_at` timestamp(3),
	`created_at` timestamp(3) NOT NULL DEFAULT (now()),
	`last_login_at` timestamp(3),
	CONSTRAINT `admin_users_id` PRIMARY KEY(`id`),
	CONSTRAINT `admin_users_email_idx` UNIQUE(`email`)
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`at` timestamp(3) NOT NULL DEFAULT (now()),
	`actor_kind` varchar(16) NOT NULL,
	`actor` varchar(254) NOT NULL,
	`action` varchar(64) NOT NULL,
	`target_kind` varchar(32) NOT NULL,
	`target` varchar(254) NOT NULL,
	`summary` json,
	`request_id` varchar(128),
	CONSTRAINT `audit_log_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `apps` ADD `paused` boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `admin_users_role_idx` ON `admin_users` (`role`);--> statement-breakpoint
CREATE INDEX `audit_log_target_idx` ON `audit_log` (`target_kind`,`target`);--> statement-breakpoint
CREATE INDEX `audit_log_at_idx` ON `audit_log` (`at`);