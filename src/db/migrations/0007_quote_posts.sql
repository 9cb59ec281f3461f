CREATE TABLE "status_quotes" (
	"id" bigint PRIMARY KEY NOT NULL,
	"status_id" bigint NOT NULL,
	"quoted_status_id" bigint,
	"quoted_uri" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"authorization_uri" text,
	"request_uri" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "status_quotes_state_check" CHECK ("status_quotes"."state" in ('pending', 'accepted', 'rejected', 'revoked', 'deleted', 'unauthorized'))
);
--> statement-breakpoint
ALTER TABLE "statuses" ADD COLUMN "quote_policy" text;--> statement-breakpoint
ALTER TABLE "status_quotes" ADD CONSTRAINT "status_quotes_status_id_statuses_id_fk" FOREIGN KEY ("status_id") REFERENCES "public"."statuses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "status_quotes" ADD CONSTRAINT "status_quotes_quoted_status_id_statuses_id_fk" FOREIGN KEY ("quoted_status_id") REFERENCES "public"."statuses"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "status_quotes_status_idx" ON "status_quotes" USING btree ("status_id");--> statement-breakpoint
CREATE INDEX "status_quotes_quoted_idx" ON "status_quotes" USING btree ("quoted_status_id","state","id");--> statement-breakpoint
CREATE INDEX "status_quotes_authorization_idx" ON "status_quotes" USING btree ("authorization_uri");--> statement-breakpoint
CREATE INDEX "status_quotes_request_idx" ON "status_quotes" USING btree ("request_uri");