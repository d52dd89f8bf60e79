CREATE TABLE `event_rollups` (
	`app` varchar(32) NOT NULL,
	`hour` timestamp NOT NULL,
	`type` varchar(16) NOT NULL,
	`detail` varchar(32) NOT NULL DEFAULT '',
	`count` int NOT NULL DEFAULT 0,
	CONSTRAINT `event_rollups_app_hour_type_detail_pk` PRIMARY KEY(`app`,`hour`,`type`,`detail`)
);
--> statement-breakpoint
CREATE TABLE `instance_sessions` (
	`instance` varchar(20) NOT NULL,
	`app` varchar(32) NOT NULL,
	`visitor` varchar(64),
	`assigned_at` timestamp(3),
	`first_visit_at` timestamp(3),
	`last_request_at` timestamp(3),
	`requests` int NOT NULL DEFAULT 0,
	`extensions` int NOT NULL DEFAULT 0,
	`ended_at` timestamp(3),
	`ended_how` varchar(16),
	`converted_at` timestamp(3),
	`conversions` int NOT NULL DEFAULT 0,
	CONSTRAINT `instance_sessions_instance` PRIMARY KEY(`instance`)
);
--> statement-breakpoint
ALTER TABLE `events` ADD `written_by` varchar(16);--> statement-breakpoint
CREATE INDEX `instance_sessions_app_assigned_idx` ON `instance_sessions` (`app`,`assigned_at`);--> statement-breakpoint
CREATE INDEX `instance_sessions_ended_idx` ON `instance_sessions` (`ended_at`);