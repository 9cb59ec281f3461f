/**
 * Writing the owner's account archive (Mastodon's "Request your archive":
 * outbox, actor, likes, bookmarks and media in a .tar.gz) on behalf of a
 * page. Federation writes it, since the archive's documents are its
 * ActivityPub ones; it connects its writer when it starts. Without it (a
 * process without federation), no archive is written.
 */
/** What an archive held. */
export interface ArchiveReport {
  posts: number;
  boosts: number;
  media: number;
  favourites: number;
  bookmarks: number;
}

export type ArchiveWrite = (file: string) => Promise<ArchiveReport>;

export class AccountArchives {
  #write: ArchiveWrite | null = null;

  connect(write: ArchiveWrite): void {
    this.#write = write;
  }

  /** Writes the owner's archive to `file` (.tar.gz); null when no writer is connected. */
  async write(file: string): Promise<ArchiveReport | null> {
    return this.#write == null ? null : await this.#write(file);
  }
}
