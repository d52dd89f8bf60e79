ALTER TABLE `apps` ADD `writable_paths` json DEFAULT ('["/tmp:16"]') NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `egress` varchar(10) DEFAULT 'public' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `egress_allow` json DEFAULT ('[]') NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `api_access` boolean DEFAULT true NOT NULL;--> statement-breakpoint
UPDATE `apps` SET `read_only_root` = true;--> statement-breakpoint
UPDATE `apps` SET `cap_add` = JSON_REMOVE(`cap_add`, JSON_UNQUOTE(JSON_SEARCH(`cap_add`, 'one', 'NET_RAW'))) WHERE JSON_SEARCH(`cap_add`, 'one', 'NET_RAW') IS NOT NULL;--> statement-breakpoint
UPDATE `apps` SET `cap_add` = JSON_REMOVE(`cap_add`, JSON_UNQUOTE(JSON_SEARCH(`cap_add`, 'one', 'MKNOD'))) WHERE JSON_SEARCH(`cap_add`, 'one', 'MKNOD') IS NOT NULL;
