CREATE TABLE `events` (
	`id` varchar(40) NOT NULL,
	`type` varchar(16) NOT NULL,
	`app` varchar(32) NOT NULL,
	`instance` varchar(20),
	`at` timestamp(3) NOT NULL,
	`request_id` varchar(128),
	`visitor` varchar(64),
	`data` json NOT NULL,
	CONSTRAINT `events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `events_app_at_idx` ON `events` (`app`,`at`);--> statement-breakpoint
CREATE INDEX `events_type_at_idx` ON `events` (`type`,`at`);