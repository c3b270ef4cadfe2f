CREATE TABLE `audit_checkpoints` (
	`chain` text NOT NULL,
	`seq` integer NOT NULL,
	`hash` text NOT NULL,
	`pruned_at` text NOT NULL,
	`signature` text NOT NULL,
	PRIMARY KEY(`chain`, `seq`)
);
