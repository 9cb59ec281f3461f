ALTER TABLE "accounts" ADD COLUMN "last_status_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "statuses_account_updated_idx" ON "statuses" USING btree ("account_id","updated_at");