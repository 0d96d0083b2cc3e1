-- The repository user list's name filter (`user_name`, any part of a name, any case) reads this trigram
-- index instead of every user of the account: a filter of three characters or more finds its rows by
-- their trigrams. It indexes `users.name` (external content), kept by the triggers below.
CREATE VIRTUAL TABLE user_name_trigrams USING fts5(name, content='users', content_rowid='rowid', tokenize='trigram');
INSERT INTO user_name_trigrams (user_name_trigrams) VALUES ('rebuild');
CREATE TRIGGER user_name_trigrams_insert AFTER INSERT ON users
BEGIN
    INSERT INTO user_name_trigrams (rowid, name) VALUES (NEW.rowid, NEW.name);
END;
CREATE TRIGGER user_name_trigrams_delete AFTER DELETE ON users
BEGIN
    INSERT INTO user_name_trigrams (user_name_trigrams, rowid, name) VALUES ('delete', OLD.rowid, OLD.name);
END;
CREATE TRIGGER user_name_trigrams_rename AFTER UPDATE OF name ON users
BEGIN
    INSERT INTO user_name_trigrams (user_name_trigrams, rowid, name) VALUES ('delete', OLD.rowid, OLD.name);
    INSERT INTO user_name_trigrams (rowid, name) VALUES (NEW.rowid, NEW.name);
END;
