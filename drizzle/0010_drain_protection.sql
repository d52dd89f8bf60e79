CREATE TABLE `abuse_trail` (
	`instance` varchar(40) NOT NULL,
	`app` varchar(64) NOT NULL,
	`client_ip` varchar(64) NOT NULL,
	`assigned_at` timestamp(3) NOT NULL,
	`ended_at` timestamp(3),
	CONSTRAINT `abuse_trail_instance` PRIMARY KEY(`instance`)
);
--> statement-breakpoint
CREATE TABLE `blocks` (
	`id` varchar(40) NOT NULL,
	`cidr` varchar(64) NOT NULL,
	`app` varchar(64),
	`reason` varchar(500) NOT NULL DEFAULT '',
	`created_by` varchar(254) NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT (now()),
	`expires_at` timestamp(3) NOT NULL,
	CONSTRAINT `blocks_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `api_keys` ADD `acquire_rate` int;--> statement-breakpoint
ALTER TABLE `apps` ADD `bot_gate` varchar(5) DEFAULT 'auto' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `gate_difficulty` int DEFAULT 100000 NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `extend_requires_visit` boolean DEFAULT true NOT NULL;--> statement-breakpoint
CREATE INDEX `abuse_trail_app_idx` ON `abuse_trail` (`app`,`assigned_at`);--> statement-breakpoint
CREATE INDEX `abuse_trail_client_idx` ON `abuse_trail` (`client_ip`);--> statement-breakpoint
CREATE INDEX `abuse_trail_assigned_idx` ON `abuse_trail` (`assigned_at`);--> statement-breakpoint
CREATE INDEX `blocks_expires_at_idx` ON `blocks` (`expires_at`);