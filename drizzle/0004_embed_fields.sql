ALTER TABLE `apps` ADD `description` varchar(1000) DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `extend_minutes` int DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `max_lifetime_seconds` int DEFAULT 14400 NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `max_extensions` int DEFAULT 6 NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `cta_label` varchar(80) DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `cta_url` varchar(500) DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `launch_page` boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- The app default keeps its public launch page (it had one before this setting existed).
UPDATE `apps` SET `launch_page` = true WHERE `slug` = 'default';