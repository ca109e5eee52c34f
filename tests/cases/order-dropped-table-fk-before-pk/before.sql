CREATE TABLE users (id int PRIMARY KEY);
CREATE TABLE taggings (user_id int REFERENCES users (id));
