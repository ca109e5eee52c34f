CREATE TYPE pricerange AS RANGE (subtype = float8);
CREATE DOMAIN old_money AS numeric;
