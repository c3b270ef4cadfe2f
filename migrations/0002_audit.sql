CREATE TABLE `audit_events` (
	`chain` text NOT NULL,
	`seq` integer NOT NULL,
	`ts` text NOT NULL,
	`actor_kind` text NOT NULL,
	`actor_id` text,
	`action` text NOT NULL,
	`target` text,
	`result` text NOT NULL,
	`ip` text,
	`user_agent` text,
	`request_id` text,
	`details` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	PRIMARY KEY(`chain`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `audit_events_ts` ON `audit_events` (`chain`,`ts`);