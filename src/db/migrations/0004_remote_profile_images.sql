ALTER TABLE "accounts" ADD COLUMN "avatar_file_key" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "avatar_static_key" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "avatar_file_source" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "avatar_cached_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "header_file_key" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "header_static_key" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "header_file_source" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "header_cached_at" timestamp with time zone;