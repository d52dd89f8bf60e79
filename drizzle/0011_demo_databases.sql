ALTER TABLE `apps` ADD `database_kind` varchar(10) DEFAULT 'none' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `database_seed` varchar(200) DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `database_env` json DEFAULT ('[]') NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `database_setup` json DEFAULT ('[]') NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `sign_in_user` varchar(100) DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `sign_in_path` varchar(500) DEFAULT '/' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `sign_in_password_env` varchar(128) DEFAULT '' NOT NULL;